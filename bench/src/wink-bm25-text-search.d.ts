// The package ships no types; the part of its API the BM25 bench uses.
declare module "wink-bm25-text-search" {
  interface Engine {
    defineConfig(config: { fldWeights: Record<string, number>; bm25Params?: { k1?: number; b?: number; k?: number } }): boolean
    definePrepTasks(tasks: Array<(input: string) => Array<string> | string>, field?: string): number
    addDoc(doc: Record<string, string>, id: string | number): number
    consolidate(fp?: number): boolean
    search(text: string, limit?: number): Array<[string, number]>
  }
  const bm25: () => Engine
  export default bm25
}
