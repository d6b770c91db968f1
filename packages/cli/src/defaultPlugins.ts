/** Plugin packages every graph can use without naming them. */
export const defaultPluginModules: ReadonlyArray<string> = []
