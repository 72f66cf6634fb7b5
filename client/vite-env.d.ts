/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** Path prefix of the Colyseus endpoint on this page's origin; set by vite.config.ts. */
  readonly KITH_COLYSEUS_PATH?: string;
}
