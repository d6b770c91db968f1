import { type Matrix } from "../Matrix.js"

export const checkMask = (x: Matrix, mask: Uint8Array | undefined, what: string): void => {
  if (mask !== undefined && mask.length !== x.rows * x.cols) {
    throw new RangeError(`${what}: mask has ${mask.length} entries, expected rows x cols = ${x.rows * x.cols}`)
  }
}

export const checkTemperature = (t: number, what: string): void => {
  if (!(t > 0) || !Number.isFinite(t)) throw new RangeError(`${what}: temperature must be a positive finite number, got ${t}`)
}

