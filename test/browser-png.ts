import { inflateSync } from "node:zlib";

// Minimal PNG reader for screenshots from Chromium (8-bit RGB/RGBA, not interlaced) and the
// pixel statistics the browser tests check. Written here to avoid a dependency for ~60 lines.

export type Image = { width: number; height: number; /** RGBA bytes, row-major. */ rgba: Uint8Array };

export function decodePng(buf: Buffer): Image {
  if (buf.readUInt32BE(0) !== 0x89504e47) throw new Error("not a PNG (bad signature)");
  let pos = 8, width = 0, height = 0, channels = 0;
  const idat: Buffer[] = [];
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos);
    const type = buf.toString("latin1", pos + 4, pos + 8);
    const data = buf.subarray(pos + 8, pos + 8 + len);
    if (type === "IHDR") {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const depth = data[8], colour = data[9], interlace = data[12];
      if (depth !== 8 || interlace !== 0 || (colour !== 2 && colour !== 6)) {
        throw new Error(`unsupported PNG: depth ${depth}, colour type ${colour}, interlace ${interlace}`);
      }
      channels = colour === 6 ? 4 : 3;
    } else if (type === "IDAT") idat.push(data);
    else if (type === "IEND") break;
    pos += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const out = new Uint8Array(width * height * 4);
  let prev = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const cur = new Uint8Array(stride);
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? cur[i - channels] : 0, b = prev[i], c = i >= channels ? prev[i - channels] : 0;
      let v = line[i];
      if (filter === 1) v += a;
      else if (filter === 2) v += b;
      else if (filter === 3) v += (a + b) >> 1;
      else if (filter === 4) { const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c); v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c; }
      cur[i] = v & 255;
    }
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      out[o] = cur[x * channels]; out[o + 1] = cur[x * channels + 1]; out[o + 2] = cur[x * channels + 2];
      out[o + 3] = channels === 4 ? cur[x * channels + 3] : 255;
    }
    prev = cur;
  }
  return { width, height, rgba: out };
}

/** Number of distinct colours after quantising each channel to 5 bits. */
export function distinctColours(img: Image): number {
  const seen = new Set<number>();
  for (let i = 0; i < img.rgba.length; i += 4) seen.add(((img.rgba[i] >> 3) << 10) | ((img.rgba[i + 1] >> 3) << 5) | (img.rgba[i + 2] >> 3));
  return seen.size;
}

/** Hue (degrees), saturation and value (0..1) of an RGB colour (0..255). */
export function hsv(r: number, g: number, b: number): [number, number, number] {
  const max = Math.max(r, g, b), min = Math.min(r, g, b), d = max - min;
  let h = 0;
  if (d > 0) {
    if (max === r) h = ((g - b) / d) % 6;
    else if (max === g) h = (b - r) / d + 2;
    else h = (r - g) / d + 4;
    h *= 60;
    if (h < 0) h += 360;
  }
  return [h, max === 0 ? 0 : d / max, max / 255];
}

/**
 * Fraction of pixels whose hue is within `hueTol` degrees of the reference colour's hue and
 * whose saturation is at least `minSat`: lighting and fog change brightness, hue survives.
 */
export function hueShare(img: Image, hex: string, hueTol = 12, minSat = 0.35): number {
  const n = Number.parseInt(hex.slice(1), 16);
  const [h0] = hsv((n >> 16) & 255, (n >> 8) & 255, n & 255);
  let hits = 0;
  for (let i = 0; i < img.rgba.length; i += 4) {
    const [h, s, v] = hsv(img.rgba[i], img.rgba[i + 1], img.rgba[i + 2]);
    const dh = Math.min(Math.abs(h - h0), 360 - Math.abs(h - h0));
    if (dh <= hueTol && s >= minSat && v > 0.15) hits++;
  }
  return hits / (img.width * img.height);
}

/** Fraction of pixels that differ by more than `tol` in any channel. */
export function changedShare(a: Image, b: Image, tol = 24): number {
  if (a.width !== b.width || a.height !== b.height) throw new Error("images differ in size");
  let changed = 0;
  for (let i = 0; i < a.rgba.length; i += 4) {
    if (Math.abs(a.rgba[i] - b.rgba[i]) > tol || Math.abs(a.rgba[i + 1] - b.rgba[i + 1]) > tol || Math.abs(a.rgba[i + 2] - b.rgba[i + 2]) > tol) changed++;
  }
  return changed / (a.width * a.height);
}
