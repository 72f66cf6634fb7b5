// Euler angles → quaternion with Babylon's convention (yaw about Y, pitch about X, roll about Z:
// Quaternion.RotationYawPitchRoll(y, x, z)), so server colliders match the client's meshes.

export interface Quat { x: number; y: number; z: number; w: number }

/** `rotation` is the scene's [x, y, z] Euler angles in radians. */
export function quaternionFromEuler(rotation: readonly [number, number, number] | readonly number[]): Quat {
  const [pitch, yaw, roll] = rotation;
  const hr = roll * 0.5, hp = pitch * 0.5, hy = yaw * 0.5;
  const sr = Math.sin(hr), cr = Math.cos(hr);
  const sp = Math.sin(hp), cp = Math.cos(hp);
  const sy = Math.sin(hy), cy = Math.cos(hy);
  return {
    x: cy * sp * cr + sy * cp * sr,
    y: sy * cp * cr - cy * sp * sr,
    z: cy * cp * sr - sy * sp * cr,
    w: cy * cp * cr + sy * sp * sr,
  };
}

/** Rotation about +Y by `yaw` radians. */
export function quaternionFromYaw(yaw: number): Quat {
  return { x: 0, y: Math.sin(yaw / 2), z: 0, w: Math.cos(yaw / 2) };
}
