/**
 * erf(x) to about 1.2e-7 relative error (Numerical Recipes' Chebyshev fit of erfc), well inside
 * float32 precision; JavaScript has no Math.erf.
 */
export const erf = (x: number): number => {
  const z = Math.abs(x)
  const t = 1 / (1 + 0.5 * z)
  const erfc =
    t *
    Math.exp(
      -z * z - 1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 +
          t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))))
    )
  return x >= 0 ? 1 - erfc : erfc - 1
}
