// @embedflow/tensor's native compute backend: row-major sgemm (both transposes, alpha/beta, leading
// dimensions, element offsets into a Float32Array), strided-batched sgemm (attention heads), and the
// BLAS level-1 ops, all over OpenBLAS. Typed arrays are used in place; every extent is checked against
// the array's length before BLAS touches memory, so a bad view throws a RangeError instead of
// reading or writing out of bounds. Arguments are positional (no option objects) to keep the per-call
// cost of small products low.
#include <napi.h>

#include <cblas.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

namespace {

struct View {
  float* data;
  int64_t length;
};

struct View64 {
  double* data;
  int64_t length;
};

View floats(const Napi::Value& v, const char* fn, const char* what) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Napi::TypeError::New(v.Env(), std::string(fn) + ": " + what + " must be a Float32Array");
  }
  auto a = v.As<Napi::Float32Array>();
  return View{a.Data(), static_cast<int64_t>(a.ElementLength())};
}

int64_t integer(const Napi::Value& v, const char* fn, const char* what, int64_t min) {
  if (!v.IsNumber()) throw Napi::TypeError::New(v.Env(), std::string(fn) + ": " + what + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  auto i = static_cast<int64_t>(d);
  if (static_cast<double>(i) != d || i < min || i > INT32_MAX) {
    throw Napi::RangeError::New(v.Env(), std::string(fn) + ": " + what + " must be an integer >= " + std::to_string(min) +
                                             " (and < 2^31), got " + v.ToString().Utf8Value());
  }
  return i;
}

double number(const Napi::Value& v, const char* fn, const char* what) {
  if (!v.IsNumber()) throw Napi::TypeError::New(v.Env(), std::string(fn) + ": " + what + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

// A rows x cols row-major operand stored with leading dimension ld at element offset off (plus
// `extra` elements for batched operands) must lie inside the array.
void checkOperand(Napi::Env env, const char* fn, const char* what, const View& v, int64_t off, int64_t rows, int64_t cols,
                  int64_t ld, int64_t extra) {
  if (ld < (cols > 1 ? cols : 1)) {
    throw Napi::RangeError::New(env, std::string(fn) + ": leading dimension of " + what + " is " + std::to_string(ld) +
                                         ", must be >= its stored column count " + std::to_string(cols));
  }
  if (rows == 0 || cols == 0) return;
  int64_t end = off + (rows - 1) * ld + cols + extra;
  if (end > v.length) {
    throw Napi::RangeError::New(env, std::string(fn) + ": " + what + " needs elements up to " + std::to_string(end) +
                                         " but its Float32Array holds " + std::to_string(v.length));
  }
}

struct Gemm {
  bool transA, transB;
  int64_t m, n, k;
  float alpha, beta;
  View a, b, c;
  int64_t aOff, lda, bOff, ldb, cOff, ldc;
};

// Parses the 16 shared arguments starting at info[base]:
// transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc
// (batched calls interleave strides, so they pass their own index map).
Gemm parseGemm(const Napi::CallbackInfo& info, const char* fn, const int idx[16]) {
  Gemm g;
  g.transA = info[idx[0]].ToBoolean().Value();
  g.transB = info[idx[1]].ToBoolean().Value();
  g.m = integer(info[idx[2]], fn, "m", 0);
  g.n = integer(info[idx[3]], fn, "n", 0);
  g.k = integer(info[idx[4]], fn, "k", 0);
  g.alpha = static_cast<float>(number(info[idx[5]], fn, "alpha"));
  g.a = floats(info[idx[6]], fn, "A");
  g.aOff = integer(info[idx[7]], fn, "A offset", 0);
  g.lda = integer(info[idx[8]], fn, "lda", 1);
  g.b = floats(info[idx[9]], fn, "B");
  g.bOff = integer(info[idx[10]], fn, "B offset", 0);
  g.ldb = integer(info[idx[11]], fn, "ldb", 1);
  g.beta = static_cast<float>(number(info[idx[12]], fn, "beta"));
  g.c = floats(info[idx[13]], fn, "C");
  g.cOff = integer(info[idx[14]], fn, "C offset", 0);
  g.ldc = integer(info[idx[15]], fn, "ldc", 1);
  return g;
}

void checkGemm(Napi::Env env, const char* fn, const Gemm& g, int64_t extraA, int64_t extraB, int64_t extraC) {
  // Stored shapes: A is m x k (k x m when transposed), B is k x n (n x k when transposed).
  checkOperand(env, fn, "A", g.a, g.aOff, g.transA ? g.k : g.m, g.transA ? g.m : g.k, g.lda, extraA);
  checkOperand(env, fn, "B", g.b, g.bOff, g.transB ? g.n : g.k, g.transB ? g.k : g.n, g.ldb, extraB);
  checkOperand(env, fn, "C", g.c, g.cOff, g.m, g.n, g.ldc, extraC);
}

// OpenBLAS's thread count as configured (setThreads / EMBEDFLOW_THREADS / its own default).
int configuredThreads = 0;

// Products below this many multiply-adds run on one thread: waking a second thread costs more than
// it saves (measured on 2 cores: 64³ gains nothing from a second thread, 192x384x384 runs 1.9x faster;
// on shared, oversubscribed cores small multi-threaded products collapse while the peer thread waits
// to be scheduled). The attention-head and low-rank products of the layers are mostly below it.
constexpr int64_t kSingleThreadMacs = int64_t{1} << 22;

void runGemm(const Gemm& g, int64_t aShift, int64_t bShift, int64_t cShift) {
  if (g.m == 0 || g.n == 0) return;
  bool single = configuredThreads > 1 && g.m * g.n * g.k < kSingleThreadMacs;
  if (single) openblas_set_num_threads(1);
  cblas_sgemm(CblasRowMajor, g.transA ? CblasTrans : CblasNoTrans, g.transB ? CblasTrans : CblasNoTrans,
              static_cast<blasint>(g.m), static_cast<blasint>(g.n), static_cast<blasint>(g.k), g.alpha,
              g.a.data + g.aOff + aShift, static_cast<blasint>(g.lda), g.b.data + g.bOff + bShift,
              static_cast<blasint>(g.ldb), g.beta, g.c.data + g.cOff + cShift, static_cast<blasint>(g.ldc));
  if (single) openblas_set_num_threads(configuredThreads);
}

// The kernels read A and B while writing C: an output sharing memory with an input would read partial
// results. Compares the element ranges each operand actually spans (views of one buffer may coexist).
void checkNoAlias(Napi::Env env, const char* fn, const Gemm& g, int64_t extraA, int64_t extraB, int64_t extraC) {
  if (g.m == 0 || g.n == 0 || g.k == 0) return;
  auto span = [](const View& v, int64_t off, int64_t rows, int64_t cols, int64_t ld, int64_t extra) {
    return std::pair<const float*, const float*>(v.data + off, v.data + off + (rows - 1) * ld + cols + extra);
  };
  auto c = span(g.c, g.cOff, g.m, g.n, g.ldc, extraC);
  auto a = span(g.a, g.aOff, g.transA ? g.k : g.m, g.transA ? g.m : g.k, g.lda, extraA);
  auto b = span(g.b, g.bOff, g.transB ? g.n : g.k, g.transB ? g.k : g.n, g.ldb, extraB);
  auto hit = [&](std::pair<const float*, const float*> x) { return x.first < c.second && c.first < x.second; };
  if (hit(a) || hit(b)) throw Napi::RangeError::New(env, std::string(fn) + ": C must not share memory with A or B");
}

// sgemm(transA, transB, m, n, k, alpha, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc)
// C = alpha·op(A)·op(B) + beta·C; beta = 0 overwrites C without reading it (NaNs included).
Napi::Value Sgemm(const Napi::CallbackInfo& info) {
  static const int idx[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  Gemm g = parseGemm(info, "sgemm", idx);
  checkGemm(info.Env(), "sgemm", g, 0, 0, 0);
  checkNoAlias(info.Env(), "sgemm", g, 0, 0, 0);
  runGemm(g, 0, 0, 0);
  return info.Env().Undefined();
}

// sgemmStridedBatched(transA, transB, m, n, k, alpha, A, aOff, lda, strideA, B, bOff, ldb, strideB,
//                     beta, C, cOff, ldc, strideC, batch)
// For b in 0..batch: C_b = alpha·op(A_b)·op(B_b) + beta·C_b, X_b starting strideX elements after X_{b-1}.
Napi::Value SgemmStridedBatched(const Napi::CallbackInfo& info) {
  static const int idx[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 14, 15, 16, 17};
  const char* fn = "sgemmStridedBatched";
  Gemm g = parseGemm(info, fn, idx);
  int64_t strideA = integer(info[9], fn, "strideA", 0);
  int64_t strideB = integer(info[13], fn, "strideB", 0);
  int64_t strideC = integer(info[18], fn, "strideC", 0);
  int64_t batch = integer(info[19], fn, "batch", 0);
  if (batch == 0) return info.Env().Undefined();
  checkGemm(info.Env(), fn, g, (batch - 1) * strideA, (batch - 1) * strideB, (batch - 1) * strideC);
  checkNoAlias(info.Env(), fn, g, (batch - 1) * strideA, (batch - 1) * strideB, (batch - 1) * strideC);
  // Outputs must be disjoint: consecutive blocks, or side-by-side column blocks of wider rows (attention heads).
  bool blocks = strideC >= (g.m - 1) * g.ldc + g.n;
  bool columns = strideC >= g.n && (batch - 1) * strideC + g.n <= g.ldc;
  if (batch > 1 && g.m > 0 && g.n > 0 && !blocks && !columns) {
    throw Napi::RangeError::New(info.Env(), std::string(fn) + ": strideC " + std::to_string(strideC) +
                                                " would make the outputs overlap (needs consecutive blocks, >= (m-1)·ldc + n = " +
                                                std::to_string((g.m - 1) * g.ldc + g.n) + ", or side-by-side column blocks, >= n = " +
                                                std::to_string(g.n) + " with (batch-1)·strideC + n <= ldc = " + std::to_string(g.ldc) + ")");
  }
  for (int64_t i = 0; i < batch; i++) runGemm(g, i * strideA, i * strideB, i * strideC);
  return info.Env().Undefined();
}

// axpy(n, alpha, x, xOff, y, yOff): y[yOff..] += alpha·x[xOff..]
Napi::Value Axpy(const Napi::CallbackInfo& info) {
  const char* fn = "axpy";
  int64_t n = integer(info[0], fn, "n", 0);
  auto alpha = static_cast<float>(number(info[1], fn, "alpha"));
  View x = floats(info[2], fn, "x");
  int64_t xOff = integer(info[3], fn, "x offset", 0);
  View y = floats(info[4], fn, "y");
  int64_t yOff = integer(info[5], fn, "y offset", 0);
  if (xOff + n > x.length || yOff + n > y.length) throw Napi::RangeError::New(info.Env(), "axpy: n elements past the offset exceed an array");
  cblas_saxpy(static_cast<blasint>(n), alpha, x.data + xOff, 1, y.data + yOff, 1);
  return info.Env().Undefined();
}

// scal(n, alpha, x, xOff): x[xOff..] *= alpha
Napi::Value Scal(const Napi::CallbackInfo& info) {
  const char* fn = "scal";
  int64_t n = integer(info[0], fn, "n", 0);
  auto alpha = static_cast<float>(number(info[1], fn, "alpha"));
  View x = floats(info[2], fn, "x");
  int64_t xOff = integer(info[3], fn, "x offset", 0);
  if (xOff + n > x.length) throw Napi::RangeError::New(info.Env(), "scal: n elements past the offset exceed the array");
  cblas_sscal(static_cast<blasint>(n), alpha, x.data + xOff, 1);
  return info.Env().Undefined();
}

// dot(n, x, xOff, y, yOff): Σ x·y accumulated in float64 (dsdot).
Napi::Value Dot(const Napi::CallbackInfo& info) {
  const char* fn = "dot";
  int64_t n = integer(info[0], fn, "n", 0);
  View x = floats(info[1], fn, "x");
  int64_t xOff = integer(info[2], fn, "x offset", 0);
  View y = floats(info[3], fn, "y");
  int64_t yOff = integer(info[4], fn, "y offset", 0);
  if (xOff + n > x.length || yOff + n > y.length) throw Napi::RangeError::New(info.Env(), "dot: n elements past the offset exceed an array");
  return Napi::Number::New(info.Env(), cblas_dsdot(static_cast<blasint>(n), x.data + xOff, 1, y.data + yOff, 1));
}

View64 doubles(const Napi::Value& v, const char* fn, const char* what) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
    throw Napi::TypeError::New(v.Env(), std::string(fn) + ": " + what + " must be a Float64Array");
  }
  auto a = v.As<Napi::Float64Array>();
  return View64{a.Data(), static_cast<int64_t>(a.ElementLength())};
}

// The AdamW element loop in float64 per element, in the TypeScript backend's exact order (no FMA:
// see -ffp-contract=off), so both backends give bit-identical weights. Cloned per ISA so AVX-512 /
// AVX2 machines get wide vectors from one portable binary.
__attribute__((target_clones("avx512f", "avx2", "default")))
void adamwLoop(int64_t n, float* w, const float* g, double* m, double* v, double lr, double b1, double b2, double eps,
               double c1, double c2, double decay) {
  for (int64_t i = 0; i < n; i++) {
    double gi = g[i];
    double mi = b1 * m[i] + (1 - b1) * gi;
    double vi = b2 * v[i] + (1 - b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    w[i] = static_cast<float>(static_cast<double>(w[i]) * decay - (lr * (mi / c1)) / (std::sqrt(vi / c2) + eps));
  }
}

// adamw(n, w, g, m, v, lr, beta1, beta2, eps, c1, c2, decay): one AdamW update of n parameters;
// c1 = 1 - beta1^t, c2 = 1 - beta2^t, decay = 1 - lr·weightDecay (1 for exempt parameters).
Napi::Value Adamw(const Napi::CallbackInfo& info) {
  const char* fn = "adamw";
  int64_t n = integer(info[0], fn, "n", 0);
  View w = floats(info[1], fn, "w");
  View g = floats(info[2], fn, "g");
  View64 m = doubles(info[3], fn, "m");
  View64 v = doubles(info[4], fn, "v");
  if (n > w.length || n > g.length || n > m.length || n > v.length) {
    throw Napi::RangeError::New(info.Env(), "adamw: n exceeds the length of w, g, m or v");
  }
  adamwLoop(n, w.data, g.data, m.data, v.data, number(info[5], fn, "lr"), number(info[6], fn, "beta1"), number(info[7], fn, "beta2"),
            number(info[8], fn, "eps"), number(info[9], fn, "c1"), number(info[10], fn, "c2"), number(info[11], fn, "decay"));
  return info.Env().Undefined();
}

// Row-wise L2 normalisation, in the TypeScript backend's exact arithmetic: the squared norm and the
// backward's dot product are summed sequentially in float64 (no reassociation, so no vectorised
// reduction), the scaling loops are element-wise in float64 and vectorise. Results are bit-identical.
__attribute__((target_clones("avx512f", "avx2", "default")))
void l2NormalizeLoop(int64_t rows, int64_t cols, const float* x, float* y, double* norms, double eps) {
  for (int64_t i = 0; i < rows; i++) {
    const float* xi = x + i * cols;
    float* yi = y + i * cols;
    double s = 0;
    for (int64_t j = 0; j < cols; j++) s += static_cast<double>(xi[j]) * static_cast<double>(xi[j]);
    double norm = std::sqrt(s);
    norms[i] = norm;
    double inv = 1 / (norm > eps ? norm : eps);
    for (int64_t j = 0; j < cols; j++) yi[j] = static_cast<float>(static_cast<double>(xi[j]) * inv);
  }
}

__attribute__((target_clones("avx512f", "avx2", "default")))
void l2NormalizeBackwardLoop(int64_t rows, int64_t cols, const float* y, const float* dy, const double* norms, double eps, float* dx) {
  for (int64_t i = 0; i < rows; i++) {
    const float* yi = y + i * cols;
    const float* dyi = dy + i * cols;
    float* dxi = dx + i * cols;
    double norm = norms[i];
    if (norm <= eps) {
      for (int64_t j = 0; j < cols; j++) dxi[j] = static_cast<float>(static_cast<double>(dyi[j]) / eps);
      continue;
    }
    double dot = 0;
    for (int64_t j = 0; j < cols; j++) dot += static_cast<double>(yi[j]) * static_cast<double>(dyi[j]);
    double inv = 1 / norm;
    for (int64_t j = 0; j < cols; j++) dxi[j] = static_cast<float>((static_cast<double>(dyi[j]) - static_cast<double>(yi[j]) * dot) * inv);
  }
}

void requireLength(Napi::Env env, const char* fn, const char* what, int64_t length, int64_t need) {
  if (length < need) {
    throw Napi::RangeError::New(env, std::string(fn) + ": " + what + " holds " + std::to_string(length) + " values, needs " + std::to_string(need));
  }
}

// l2NormalizeRows(rows, cols, x, y, norms, eps): y_i = x_i / max(|x_i|, eps), norms_i = |x_i|.
Napi::Value L2NormalizeRows(const Napi::CallbackInfo& info) {
  const char* fn = "l2NormalizeRows";
  int64_t rows = integer(info[0], fn, "rows", 0), cols = integer(info[1], fn, "cols", 0);
  View x = floats(info[2], fn, "x");
  View y = floats(info[3], fn, "y");
  View64 norms = doubles(info[4], fn, "norms");
  double eps = number(info[5], fn, "eps");
  requireLength(info.Env(), fn, "x", x.length, rows * cols);
  requireLength(info.Env(), fn, "y", y.length, rows * cols);
  requireLength(info.Env(), fn, "norms", norms.length, rows);
  l2NormalizeLoop(rows, cols, x.data, y.data, norms.data, eps);
  return info.Env().Undefined();
}

// l2NormalizeRowsBackward(rows, cols, y, dy, norms, eps, dx): dx_i = (dy_i - y_i <y_i, dy_i>) / |x_i|
// (dy_i / eps where the clamp was active).
Napi::Value L2NormalizeRowsBackward(const Napi::CallbackInfo& info) {
  const char* fn = "l2NormalizeRowsBackward";
  int64_t rows = integer(info[0], fn, "rows", 0), cols = integer(info[1], fn, "cols", 0);
  View y = floats(info[2], fn, "y");
  View dy = floats(info[3], fn, "dy");
  View64 norms = doubles(info[4], fn, "norms");
  double eps = number(info[5], fn, "eps");
  View dx = floats(info[6], fn, "dx");
  requireLength(info.Env(), fn, "y", y.length, rows * cols);
  requireLength(info.Env(), fn, "dy", dy.length, rows * cols);
  requireLength(info.Env(), fn, "dx", dx.length, rows * cols);
  requireLength(info.Env(), fn, "norms", norms.length, rows);
  l2NormalizeBackwardLoop(rows, cols, y.data, dy.data, norms.data, eps, dx.data);
  return info.Env().Undefined();
}

// exp in float64 without a libm call, so the GELU loops below vectorise (glibc's exp is scalar here):
// x = n·ln2 + r with |r| <= ln2/2 (Cody-Waite split of ln2), e^r by its degree-13 Taylor polynomial
// (truncation < 2e-17 relative), 2^n built in the exponent bits. Relative error ~1e-16, far below the
// float32 rounding of the results. Arguments are clamped to [-700, 700] (e^-700 ~ 1e-304: zero for
// every use here).
inline double expVec(double x) {
  x = x < -700.0 ? -700.0 : (x > 700.0 ? 700.0 : x);
  const double shift = 6755399441055744.0;  // 1.5·2^52: adding it rounds to an integer held in the low bits
  double kd = x * 1.4426950408889634074 + shift;
  uint64_t bits;
  std::memcpy(&bits, &kd, sizeof bits);
  kd -= shift;
  double r = (x - kd * 6.93147180369123816490e-01) - kd * 1.90821492927058770002e-10;
  double p = 1.0 / 6227020800.0;
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  uint64_t scaleBits = (bits + 1023) << 52;  // (n + 1023) in the exponent field; the shift's high bits fall off
  double scale;
  std::memcpy(&scale, &scaleBits, sizeof scale);
  return p * scale;
}

// Exact GELU and its derivative, per element in float64 with internal/erf.ts's Chebyshev fit of erfc
// (same coefficients, same order), so both backends agree to float32 rounding. Cloned per ISA.
inline double erfFit(double x) {
  double z = std::fabs(x);
  double t = 1 / (1 + 0.5 * z);
  double erfc = t * expVec(-z * z - 1.26551223 +
                           t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 +
                           t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? 1 - erfc : erfc - 1;
}

constexpr double kInvSqrt2 = 0.70710678118654752440;
constexpr double kInvSqrt2Pi = 0.39894228040143267794;

__attribute__((target_clones("avx512f", "avx2", "default")))
void geluErfLoop(int64_t n, const float* x, float* y) {
  for (int64_t i = 0; i < n; i++) {
    double xi = x[i];
    y[i] = static_cast<float>(0.5 * xi * (1 + erfFit(xi * kInvSqrt2)));
  }
}

__attribute__((target_clones("avx512f", "avx2", "default")))
void geluErfBackwardLoop(int64_t n, const float* x, const float* dy, float* dx) {
  for (int64_t i = 0; i < n; i++) {
    double xi = x[i];
    dx[i] = static_cast<float>(static_cast<double>(dy[i]) * (0.5 * (1 + erfFit(xi * kInvSqrt2)) + xi * kInvSqrt2Pi * expVec(-0.5 * xi * xi)));
  }
}

// geluErf(n, x, y): y = x·Φ(x) element-wise.
Napi::Value GeluErf(const Napi::CallbackInfo& info) {
  const char* fn = "geluErf";
  int64_t n = integer(info[0], fn, "n", 0);
  View x = floats(info[1], fn, "x");
  View y = floats(info[2], fn, "y");
  requireLength(info.Env(), fn, "x", x.length, n);
  requireLength(info.Env(), fn, "y", y.length, n);
  geluErfLoop(n, x.data, y.data);
  return info.Env().Undefined();
}

// geluErfBackward(n, x, dy, dx): dx = dy·(Φ(x) + x·φ(x)) element-wise.
Napi::Value GeluErfBackward(const Napi::CallbackInfo& info) {
  const char* fn = "geluErfBackward";
  int64_t n = integer(info[0], fn, "n", 0);
  View x = floats(info[1], fn, "x");
  View dy = floats(info[2], fn, "dy");
  View dx = floats(info[3], fn, "dx");
  requireLength(info.Env(), fn, "x", x.length, n);
  requireLength(info.Env(), fn, "dy", dy.length, n);
  requireLength(info.Env(), fn, "dx", dx.length, n);
  geluErfBackwardLoop(n, x.data, dy.data, dx.data);
  return info.Env().Undefined();
}

// xoshiro128** (Rng.ts's nextUint32) and Rng.next()'s 53-bit double from two draws, so the native
// dropout masks are the TypeScript ones bit for bit (a GradCache replay may run on either backend).
inline uint32_t rotl32(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

inline uint32_t xoshiroNext(uint32_t s[4]) {
  uint32_t result = rotl32(s[1] * 5, 7) * 9;
  uint32_t t = s[1] << 9;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl32(s[3], 11);
  return result;
}

void dropoutLoop(int64_t n, double p, double scale, uint32_t st[4], const float* x, float* y, uint8_t* keep) {
  uint32_t s[4] = {st[0], st[1], st[2], st[3]};
  for (int64_t i = 0; i < n; i++) {
    uint32_t a = xoshiroNext(s) >> 5;
    uint32_t b = xoshiroNext(s) >> 6;
    double u = (static_cast<double>(a) * 67108864.0 + static_cast<double>(b)) / 9007199254740992.0;
    bool kept = u >= p;
    keep[i] = kept ? 1 : 0;
    y[i] = kept ? static_cast<float>(static_cast<double>(x[i]) * scale) : 0.0f;
  }
  for (int k = 0; k < 4; k++) st[k] = s[k];
}

// dropout(n, p, scale, state, x, xOff, y, yOff, keep, keepOff): keep_i = u_i >= p, y_i = keep_i ? x_i·scale : 0.
Napi::Value Dropout(const Napi::CallbackInfo& info) {
  const char* fn = "dropout";
  int64_t n = integer(info[0], fn, "n", 0);
  double p = number(info[1], fn, "p");
  double scale = number(info[2], fn, "scale");
  if (!info[3].IsTypedArray() || info[3].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array ||
      info[3].As<Napi::TypedArray>().ElementLength() != 4) {
    throw Napi::TypeError::New(info.Env(), "dropout: state must be a Uint32Array of 4 words");
  }
  uint32_t* state = info[3].As<Napi::Uint32Array>().Data();
  View x = floats(info[4], fn, "x");
  int64_t xOff = integer(info[5], fn, "x offset", 0);
  View y = floats(info[6], fn, "y");
  int64_t yOff = integer(info[7], fn, "y offset", 0);
  if (!info[8].IsTypedArray() || info[8].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw Napi::TypeError::New(info.Env(), "dropout: keep must be a Uint8Array");
  }
  auto keep = info[8].As<Napi::Uint8Array>();
  int64_t keepOff = integer(info[9], fn, "keep offset", 0);
  requireLength(info.Env(), fn, "x", x.length - xOff, n);
  requireLength(info.Env(), fn, "y", y.length - yOff, n);
  requireLength(info.Env(), fn, "keep", static_cast<int64_t>(keep.ElementLength()) - keepOff, n);
  dropoutLoop(n, p, scale, state, x.data + xOff, y.data + yOff, keep.Data() + keepOff);
  return info.Env().Undefined();
}

// LayerNorm in the TypeScript backend's exact float64 order (sequential row sums, element-wise
// products rounded to float32 where TS stores them), so both backends give the same bits.
void layerNormLoop(int64_t rows, int64_t n, const float* x, const float* g, const float* b, double eps, float* y, float* xhat,
                   double* rstd) {
  for (int64_t i = 0; i < rows; i++) {
    const float* xi = x + i * n;
    double mean = 0;
    for (int64_t j = 0; j < n; j++) mean += xi[j];
    mean /= static_cast<double>(n);
    double v = 0;
    for (int64_t j = 0; j < n; j++) {
      double d = xi[j] - mean;
      v += d * d;
    }
    double r = 1 / std::sqrt(v / static_cast<double>(n) + eps);
    rstd[i] = r;
    float* yi = y + i * n;
    if (xhat != nullptr) {
      float* hi = xhat + i * n;
      for (int64_t j = 0; j < n; j++) {
        double h = (xi[j] - mean) * r;
        hi[j] = static_cast<float>(h);
        yi[j] = static_cast<float>(h * g[j] + b[j]);
      }
    } else {
      for (int64_t j = 0; j < n; j++) yi[j] = static_cast<float>(((xi[j] - mean) * r) * g[j] + b[j]);
    }
  }
}

void layerNormBackwardLoop(int64_t rows, int64_t n, const float* dY, const float* xhat, const double* rstd, const float* gamma, float* dX,
                           float* dg, float* db) {
  for (int64_t i = 0; i < rows; i++) {
    const float* dyi = dY + i * n;
    const float* hi = xhat + i * n;
    double sumG = 0, sumGx = 0;
    for (int64_t j = 0; j < n; j++) {
      double dy = dyi[j], h = hi[j];
      double gj = dy * gamma[j];
      sumG += gj;
      sumGx += gj * h;
    }
    if (dg != nullptr) for (int64_t j = 0; j < n; j++) dg[j] = static_cast<float>(dg[j] + static_cast<double>(dyi[j]) * hi[j]);
    if (db != nullptr) for (int64_t j = 0; j < n; j++) db[j] = static_cast<float>(db[j] + static_cast<double>(dyi[j]));
    double mG = sumG / static_cast<double>(n), mGx = sumGx / static_cast<double>(n), r = rstd[i];
    float* dxi = dX + i * n;
    for (int64_t j = 0; j < n; j++) dxi[j] = static_cast<float>((static_cast<double>(dyi[j]) * gamma[j] - mG - hi[j] * mGx) * r);
  }
}

// An optional Float32Array argument (null/undefined = absent).
float* optionalFloats(const Napi::Value& v, const char* fn, const char* what, int64_t need) {
  if (v.IsNull() || v.IsUndefined()) return nullptr;
  View a = floats(v, fn, what);
  requireLength(v.Env(), fn, what, a.length, need);
  return a.data;
}

// layerNorm(rows, cols, x, gamma, beta, eps, y, xhat|null, rstd)
Napi::Value LayerNormForward(const Napi::CallbackInfo& info) {
  const char* fn = "layerNorm";
  int64_t rows = integer(info[0], fn, "rows", 0), cols = integer(info[1], fn, "cols", 1);
  View x = floats(info[2], fn, "x"), g = floats(info[3], fn, "gamma"), b = floats(info[4], fn, "beta");
  double eps = number(info[5], fn, "eps");
  View y = floats(info[6], fn, "y");
  float* xhat = optionalFloats(info[7], fn, "xhat", rows * cols);
  View64 rstd = doubles(info[8], fn, "rstd");
  requireLength(info.Env(), fn, "x", x.length, rows * cols);
  requireLength(info.Env(), fn, "y", y.length, rows * cols);
  requireLength(info.Env(), fn, "gamma", g.length, cols);
  requireLength(info.Env(), fn, "beta", b.length, cols);
  requireLength(info.Env(), fn, "rstd", rstd.length, rows);
  layerNormLoop(rows, cols, x.data, g.data, b.data, eps, y.data, xhat, rstd.data);
  return info.Env().Undefined();
}

// layerNormBackward(rows, cols, dy, xhat, rstd, gamma, dx, dGamma|null, dBeta|null)
Napi::Value LayerNormBackward(const Napi::CallbackInfo& info) {
  const char* fn = "layerNormBackward";
  int64_t rows = integer(info[0], fn, "rows", 0), cols = integer(info[1], fn, "cols", 1);
  View dy = floats(info[2], fn, "dy"), xhat = floats(info[3], fn, "xhat");
  View64 rstd = doubles(info[4], fn, "rstd");
  View gamma = floats(info[5], fn, "gamma"), dx = floats(info[6], fn, "dx");
  float* dg = optionalFloats(info[7], fn, "dGamma", cols);
  float* db = optionalFloats(info[8], fn, "dBeta", cols);
  requireLength(info.Env(), fn, "dy", dy.length, rows * cols);
  requireLength(info.Env(), fn, "xhat", xhat.length, rows * cols);
  requireLength(info.Env(), fn, "dx", dx.length, rows * cols);
  requireLength(info.Env(), fn, "gamma", gamma.length, cols);
  requireLength(info.Env(), fn, "rstd", rstd.length, rows);
  layerNormBackwardLoop(rows, cols, dy.data, xhat.data, rstd.data, gamma.data, dx.data, dg, db);
  return info.Env().Undefined();
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  int64_t n = integer(info[0], "setThreads", "threads", 1);
  openblas_set_num_threads(static_cast<int>(n));
  configuredThreads = openblas_get_num_threads();
  return info.Env().Undefined();
}

Napi::Value GetThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), openblas_get_num_threads());
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  configuredThreads = openblas_get_num_threads();
  exports.Set("sgemm", Napi::Function::New(env, Sgemm, "sgemm"));
  exports.Set("sgemmStridedBatched", Napi::Function::New(env, SgemmStridedBatched, "sgemmStridedBatched"));
  exports.Set("axpy", Napi::Function::New(env, Axpy, "axpy"));
  exports.Set("scal", Napi::Function::New(env, Scal, "scal"));
  exports.Set("dot", Napi::Function::New(env, Dot, "dot"));
  exports.Set("adamw", Napi::Function::New(env, Adamw, "adamw"));
  exports.Set("l2NormalizeRows", Napi::Function::New(env, L2NormalizeRows, "l2NormalizeRows"));
  exports.Set("l2NormalizeRowsBackward", Napi::Function::New(env, L2NormalizeRowsBackward, "l2NormalizeRowsBackward"));
  exports.Set("geluErf", Napi::Function::New(env, GeluErf, "geluErf"));
  exports.Set("geluErfBackward", Napi::Function::New(env, GeluErfBackward, "geluErfBackward"));
  exports.Set("dropout", Napi::Function::New(env, Dropout, "dropout"));
  exports.Set("layerNorm", Napi::Function::New(env, LayerNormForward, "layerNorm"));
  exports.Set("layerNormBackward", Napi::Function::New(env, LayerNormBackward, "layerNormBackward"));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads, "setThreads"));
  exports.Set("getThreads", Napi::Function::New(env, GetThreads, "getThreads"));
  std::string config = std::string("OpenBLAS ") + openblas_get_config() + " (core " + openblas_get_corename() + ")";
  exports.Set("library", Napi::String::New(env, config));
  return exports;
}

}  // namespace

NODE_API_MODULE(embedflow_tensor, Init)
