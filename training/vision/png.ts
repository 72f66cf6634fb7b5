import { deflateSync } from "node:zlib";

// Minimal PNG writer (8-bit RGB, no interlace) for the renderer's contact sheets.

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 255] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, "latin1");
  Buffer.from(data).copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** RGB bytes (row-major, top row first) → PNG file bytes. */
export function encodePngRgb(width: number, height: number, rgb: Uint8Array): Buffer {
  if (rgb.length !== width * height * 3) throw new Error(`encodePngRgb: expected ${width * height * 3} bytes, got ${rgb.length}`);
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 3 + 1)] = 0;
    Buffer.from(rgb.buffer, rgb.byteOffset + y * width * 3, width * 3).copy(raw, y * (width * 3 + 1) + 1);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; ihdr[9] = 2; ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw)), chunk("IEND", new Uint8Array(0))]);
}

/** Tiles of side `tile` (RGB, tile × tile × 3 each) → one sheet `cols` wide, each tile scaled up `scale` times with a 2 px gap. */
export function contactSheet(tiles: Uint8Array[], tile: number, cols: number, scale: number): Buffer {
  const rows = Math.max(1, Math.ceil(tiles.length / cols));
  const cell = tile * scale + 2;
  const W = cols * cell, H = rows * cell;
  const out = new Uint8Array(W * H * 3).fill(255);
  tiles.forEach((t, i) => {
    const ox = (i % cols) * cell + 1, oy = Math.floor(i / cols) * cell + 1;
    for (let y = 0; y < tile * scale; y++) {
      const sy = Math.floor(y / scale);
      for (let x = 0; x < tile * scale; x++) {
        const s = (sy * tile + Math.floor(x / scale)) * 3, d = ((oy + y) * W + ox + x) * 3;
        out[d] = t[s]; out[d + 1] = t[s + 1]; out[d + 2] = t[s + 2];
      }
    }
  });
  return encodePngRgb(W, H, out);
}
