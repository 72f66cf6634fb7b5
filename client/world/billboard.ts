import { Color3, CreatePlane, type DynamicTexture, type Mesh, type Scene, StandardMaterial, TransformNode } from "./babylon.ts";

/**
 * A camera-facing plane showing `tex` (name tags, speech bubbles). These are UI: unlit and not
 * fogged, so distant names and lines stay readable. Size in metres.
 */
export function billboard(scene: Scene, name: string, tex: DynamicTexture, width: number, height: number): Mesh {
  const plane = CreatePlane(name, { width, height }, scene);
  plane.billboardMode = TransformNode.BILLBOARDMODE_ALL;
  plane.isPickable = false;
  const mat = new StandardMaterial(`${name}:mat`, scene);
  mat.diffuseTexture = tex;
  mat.emissiveColor = Color3.White();
  mat.disableLighting = true;
  mat.useAlphaFromDiffuseTexture = true;
  mat.backFaceCulling = false;
  mat.fogEnabled = false;
  plane.material = mat;
  return plane;
}

/** Dispose a billboard with its material and texture. */
export function disposeBillboard(plane: Mesh): void {
  const mat = plane.material as StandardMaterial | null;
  mat?.diffuseTexture?.dispose();
  mat?.dispose();
  plane.dispose();
}
