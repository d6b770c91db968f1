export { defaultGraphPath, type Io, main } from "./main.js"
export { defaultPluginModules } from "./defaultPlugins.js"
export { loadRegistry } from "./loadPlugins.js"
export { formatProgress, ProgressRenderer } from "./ProgressRenderer.js"
