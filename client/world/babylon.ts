// The one place the client pulls Babylon in: deep imports (tree shaking) plus the
// side-effect modules those classes need. Every other client file imports from here.
export { Scene } from "@babylonjs/core/scene.js";
export { Engine } from "@babylonjs/core/Engines/engine.js";
export { NullEngine } from "@babylonjs/core/Engines/nullEngine.js";
export { Vector3, Quaternion, Matrix } from "@babylonjs/core/Maths/math.vector.js";
export { Color3, Color4 } from "@babylonjs/core/Maths/math.color.js";
export { Mesh } from "@babylonjs/core/Meshes/mesh.js";
export { TransformNode } from "@babylonjs/core/Meshes/transformNode.js";
export type { AbstractMesh } from "@babylonjs/core/Meshes/abstractMesh.js";
export { CreateBox } from "@babylonjs/core/Meshes/Builders/boxBuilder.js";
export { CreateSphere } from "@babylonjs/core/Meshes/Builders/sphereBuilder.js";
export { CreateCylinder } from "@babylonjs/core/Meshes/Builders/cylinderBuilder.js";
export { CreateCapsule } from "@babylonjs/core/Meshes/Builders/capsuleBuilder.js";
export { CreateGround } from "@babylonjs/core/Meshes/Builders/groundBuilder.js";
export { CreatePlane } from "@babylonjs/core/Meshes/Builders/planeBuilder.js";
export { StandardMaterial } from "@babylonjs/core/Materials/standardMaterial.js";
export { DynamicTexture } from "@babylonjs/core/Materials/Textures/dynamicTexture.js";
export { HemisphericLight } from "@babylonjs/core/Lights/hemisphericLight.js";
export { DirectionalLight } from "@babylonjs/core/Lights/directionalLight.js";
export { PointLight } from "@babylonjs/core/Lights/pointLight.js";
export { ShadowGenerator } from "@babylonjs/core/Lights/Shadows/shadowGenerator.js";
export { ArcRotateCamera } from "@babylonjs/core/Cameras/arcRotateCamera.js";
// Ray also registers scene.pickWithRay (side effect), used by the camera to avoid walls.
export { Ray } from "@babylonjs/core/Culling/ray.js";
// Side effects: the shadow generator registers itself as a scene component.
import "@babylonjs/core/Lights/Shadows/shadowGeneratorSceneComponent.js";
// The NPC eye (client/eye/): its own camera rendering into an off-screen target.
export { FreeCamera } from "@babylonjs/core/Cameras/freeCamera.js";
export { RenderTargetTexture } from "@babylonjs/core/Materials/Textures/renderTargetTexture.js";
