// Thin N-API binding over faiss for @embedflow/faiss-index.
// Typed arrays are read in place (no per-element copies) and search results are written straight
// into fresh ArrayBuffers; search-time knobs (nprobe, efSearch, ...) go through faiss::ParameterSpace.
#include <napi.h>

#include <faiss/AutoTune.h>
#include <faiss/Index.h>
#include <faiss/IVFlib.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/clone_index.h>
#include <faiss/impl/FaissException.h>
#include <faiss/index_factory.h>
#include <faiss/index_io.h>
#include <omp.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace {

using idx_t = faiss::Index::idx_t;

// Runs f, turning C++ exceptions (faiss throws FaissException) into JS errors.
template <typename F>
auto guarded(Napi::Env env, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Napi::Error&) {
    throw;
  } catch (const faiss::FaissException& e) {
    throw Napi::Error::New(env, std::string("faiss: ") + e.what());
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
}

// Views a Float32Array as n rows of d floats; the length must be a multiple of d.
struct Rows {
  const float* data;
  idx_t n;
};

Rows rowsOf(const Napi::Value& v, int d, const char* what) {
  Napi::Env env = v.Env();
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Napi::TypeError::New(env, std::string(what) + ": expected a Float32Array");
  }
  auto a = v.As<Napi::Float32Array>();
  size_t len = a.ElementLength();
  if (len % static_cast<size_t>(d) != 0) {
    throw Napi::RangeError::New(env, std::string(what) + ": length " + std::to_string(len) +
                                         " is not a multiple of the index dimension " + std::to_string(d));
  }
  return Rows{a.Data(), static_cast<idx_t>(len / d)};
}

class FaissIndex : public Napi::ObjectWrap<FaissIndex> {
 public:
  static Napi::Object Init(Napi::Env env, Napi::Object exports) {
    Napi::Function cls = DefineClass(
        env, "NativeIndex",
        {
            InstanceAccessor<&FaissIndex::Dim>("dim"),
            InstanceAccessor<&FaissIndex::Ntotal>("ntotal"),
            InstanceAccessor<&FaissIndex::IsTrained>("isTrained"),
            InstanceAccessor<&FaissIndex::Metric>("metric"),
            InstanceMethod<&FaissIndex::Train>("train"),
            InstanceMethod<&FaissIndex::Add>("add"),
            InstanceMethod<&FaissIndex::AddWithIds>("addWithIds"),
            InstanceMethod<&FaissIndex::Search>("search"),
            InstanceMethod<&FaissIndex::SetParameter>("setParameter"),
            InstanceMethod<&FaissIndex::Reconstruct>("reconstruct"),
            InstanceMethod<&FaissIndex::Reset>("reset"),
            InstanceMethod<&FaissIndex::Write>("write"),
            InstanceMethod<&FaissIndex::MergeFrom>("mergeFrom"),
            InstanceMethod<&FaissIndex::CloneEmpty>("cloneEmpty"),
            InstanceMethod<&FaissIndex::TrainedStateChecksum>("trainedStateChecksum"),
            StaticMethod<&FaissIndex::Read>("read"),
        });
    env.SetInstanceData<Napi::FunctionReference>(new Napi::FunctionReference(Napi::Persistent(cls)));
    exports.Set("NativeIndex", cls);
    return exports;
  }

  // new NativeIndex(dim, description, metric) where metric is "l2" | "ip";
  // new NativeIndex() makes an empty shell that Read fills.
  FaissIndex(const Napi::CallbackInfo& info) : Napi::ObjectWrap<FaissIndex>(info) {
    Napi::Env env = info.Env();
    if (info.Length() == 0) return;
    if (info.Length() != 3 || !info[0].IsNumber() || !info[1].IsString() || !info[2].IsString()) {
      throw Napi::TypeError::New(env, "NativeIndex(dim: number, description: string, metric: \"l2\" | \"ip\")");
    }
    int d = info[0].As<Napi::Number>().Int32Value();
    if (d <= 0) throw Napi::RangeError::New(env, "dim must be a positive integer, got " + std::to_string(d));
    std::string desc = info[1].As<Napi::String>().Utf8Value();
    std::string m = info[2].As<Napi::String>().Utf8Value();
    faiss::MetricType metric;
    if (m == "l2") metric = faiss::METRIC_L2;
    else if (m == "ip") metric = faiss::METRIC_INNER_PRODUCT;
    else throw Napi::TypeError::New(env, "metric must be \"l2\" or \"ip\", got \"" + m + "\"");
    index_.reset(guarded(env, [&] { return faiss::index_factory(d, desc.c_str(), metric); }));
  }

 private:
  std::unique_ptr<faiss::Index> index_;

  faiss::Index& index(Napi::Env env) {
    if (!index_) throw Napi::Error::New(env, "NativeIndex is empty");
    return *index_;
  }

  Napi::Value Dim(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), index(info.Env()).d);
  }
  Napi::Value Ntotal(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(index(info.Env()).ntotal));
  }
  Napi::Value IsTrained(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), index(info.Env()).is_trained);
  }
  Napi::Value Metric(const Napi::CallbackInfo& info) {
    auto m = index(info.Env()).metric_type;
    return Napi::String::New(info.Env(), m == faiss::METRIC_L2 ? "l2" : m == faiss::METRIC_INNER_PRODUCT ? "ip" : "other");
  }

  Napi::Value Train(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto& ix = index(env);
    Rows r = rowsOf(info[0], ix.d, "train");
    guarded(env, [&] { ix.train(r.n, r.data); });
    return env.Undefined();
  }

  Napi::Value Add(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto& ix = index(env);
    Rows r = rowsOf(info[0], ix.d, "add");
    if (!ix.is_trained) throw Napi::Error::New(env, "add: the index must be trained first");
    guarded(env, [&] { ix.add(r.n, r.data); });
    return env.Undefined();
  }

  Napi::Value AddWithIds(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto& ix = index(env);
    Rows r = rowsOf(info[0], ix.d, "addWithIds");
    if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_bigint64_array) {
      throw Napi::TypeError::New(env, "addWithIds: ids must be a BigInt64Array");
    }
    auto ids = info[1].As<Napi::BigInt64Array>();
    if (static_cast<idx_t>(ids.ElementLength()) != r.n) {
      throw Napi::RangeError::New(env, "addWithIds: " + std::to_string(r.n) + " vectors but " +
                                           std::to_string(ids.ElementLength()) + " ids");
    }
    if (!ix.is_trained) throw Napi::Error::New(env, "addWithIds: the index must be trained first");
    guarded(env, [&] { ix.add_with_ids(r.n, r.data, reinterpret_cast<const idx_t*>(ids.Data())); });
    return env.Undefined();
  }

  // search(queries: Float32Array, k) -> { distances: Float32Array, labels: BigInt64Array }, row-major nq x k.
  Napi::Value Search(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto& ix = index(env);
    Rows q = rowsOf(info[0], ix.d, "search");
    if (!info[1].IsNumber()) throw Napi::TypeError::New(env, "search: k must be a number");
    int64_t k = info[1].As<Napi::Number>().Int64Value();
    if (k <= 0) throw Napi::RangeError::New(env, "search: k must be >= 1, got " + std::to_string(k));
    if (!ix.is_trained) throw Napi::Error::New(env, "search: the index must be trained first");
    size_t m = static_cast<size_t>(q.n) * static_cast<size_t>(k);
    auto dist = Napi::Float32Array::New(env, m);
    auto lab = Napi::BigInt64Array::New(env, m);
    guarded(env, [&] { ix.search(q.n, q.data, k, dist.Data(), reinterpret_cast<idx_t*>(lab.Data())); });
    auto out = Napi::Object::New(env);
    out.Set("distances", dist);
    out.Set("labels", lab);
    return out;
  }

  // setParameter("nprobe", 32) / setParameter("efSearch", 128): faiss::ParameterSpace reaches
  // through wrappers (IndexIDMap, IndexPreTransform, ...) to the index that owns the knob.
  Napi::Value SetParameter(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto& ix = index(env);
    if (!info[0].IsString() || !info[1].IsNumber()) {
      throw Napi::TypeError::New(env, "setParameter(name: string, value: number)");
    }
    std::string name = info[0].As<Napi::String>().Utf8Value();
    double value = info[1].As<Napi::Number>().DoubleValue();
    guarded(env, [&] {
      faiss::ParameterSpace ps;
      ps.set_index_parameter(&ix, name, value);
    });
    return env.Undefined();
  }

  Napi::Value Reconstruct(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto& ix = index(env);
    int64_t i0 = info[0].As<Napi::Number>().Int64Value();
    int64_t n = info[1].As<Napi::Number>().Int64Value();
    if (i0 < 0 || n < 0 || i0 + n > ix.ntotal) {
      throw Napi::RangeError::New(env, "reconstruct: range [" + std::to_string(i0) + ", " + std::to_string(i0 + n) +
                                           ") is outside [0, " + std::to_string(ix.ntotal) + ")");
    }
    auto out = Napi::Float32Array::New(env, static_cast<size_t>(n) * ix.d);
    guarded(env, [&] { ix.reconstruct_n(i0, n, out.Data()); });
    return out;
  }

  Napi::Value Reset(const Napi::CallbackInfo& info) {
    guarded(info.Env(), [&] { index(info.Env()).reset(); });
    return info.Env().Undefined();
  }

  Napi::Value Write(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto& ix = index(env);
    if (!info[0].IsString()) throw Napi::TypeError::New(env, "write(path: string)");
    std::string path = info[0].As<Napi::String>().Utf8Value();
    guarded(env, [&] { faiss::write_index(&ix, path.c_str()); });
    return env.Undefined();
  }

  // A trained-but-empty copy: IVF shards must share one coarse quantizer (and PQ codebooks) to merge.
  Napi::Value CloneEmpty(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto& ix = index(env);
    faiss::Index* copy = guarded(env, [&] {
      std::unique_ptr<faiss::Index> c(faiss::clone_index(&ix));
      c->reset();
      return c.release();
    });
    Napi::Object obj = env.GetInstanceData<Napi::FunctionReference>()->New({});
    Unwrap(obj)->index_.reset(copy);
    return obj;
  }

  // FNV-1a over what training produced (IVF centroids, PQ codebooks), hex; "" for untrained kinds.
  // Two IVF shards merge correctly only when these are equal.
  Napi::Value TrainedStateChecksum(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto& ix = index(env);
    uint64_t h = 1469598103934665603ULL;
    auto mix = [&h](const void* p, size_t n) {
      auto b = static_cast<const unsigned char*>(p);
      for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ULL;
    };
    const faiss::IndexIVF* ivf = faiss::ivflib::try_extract_index_ivf(&ix);
    if (ivf == nullptr || !ix.is_trained) return Napi::String::New(env, "");
    guarded(env, [&] {
      std::vector<float> centroids(static_cast<size_t>(ivf->nlist) * ivf->d);
      ivf->quantizer->reconstruct_n(0, ivf->nlist, centroids.data());
      mix(centroids.data(), centroids.size() * sizeof(float));
      if (auto pq = dynamic_cast<const faiss::IndexIVFPQ*>(ivf)) {
        mix(pq->pq.centroids.data(), pq->pq.centroids.size() * sizeof(float));
      }
    });
    char buf[17];
    snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return Napi::String::New(env, buf);
  }

  static Napi::Value Read(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsString()) throw Napi::TypeError::New(env, "read(path: string)");
    std::string path = info[0].As<Napi::String>().Utf8Value();
    faiss::Index* raw = guarded(env, [&] { return faiss::read_index(path.c_str()); });
    Napi::Object obj = env.GetInstanceData<Napi::FunctionReference>()->New({});
    Unwrap(obj)->index_.reset(raw);
    return obj;
  }

  // Appends other's vectors to this index and empties other. Labels of the merged vectors are
  // shifted by this.ntotal so sequential ids stay sequential: IVF lists store ids explicitly
  // (merge_from with add_id), flat codes are positional, and indexes without merge_from
  // (HNSW) are merged by reconstructing other's vectors and adding them.
  Napi::Value MergeFrom(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto& ix = index(env);
    if (!info[0].IsObject() || !info[0].As<Napi::Object>().InstanceOf(env.GetInstanceData<Napi::FunctionReference>()->Value())) {
      throw Napi::TypeError::New(env, "mergeFrom(other: NativeIndex)");
    }
    FaissIndex* other = Unwrap(info[0].As<Napi::Object>());
    auto& ox = other->index(env);
    if (&ox == &ix) throw Napi::Error::New(env, "mergeFrom: cannot merge an index into itself");
    if (ox.d != ix.d) {
      throw Napi::RangeError::New(env, "mergeFrom: dimension " + std::to_string(ox.d) + " does not match this index's dimension " +
                                           std::to_string(ix.d));
    }
    if (ox.metric_type != ix.metric_type) throw Napi::Error::New(env, "mergeFrom: the two indexes use different metrics");
    guarded(env, [&] {
      if (dynamic_cast<faiss::IndexIVF*>(&ix) != nullptr) {
        ix.merge_from(ox, ix.ntotal);
        return;
      }
      try {
        ix.merge_from(ox, 0);
      } catch (const faiss::FaissException&) {
        if (ox.ntotal == 0) return;
        std::vector<float> buf(static_cast<size_t>(ox.ntotal) * ox.d);
        ox.reconstruct_n(0, ox.ntotal, buf.data());
        ix.add(ox.ntotal, buf.data());
        ox.reset();
      }
    });
    return env.Undefined();
  }
};

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  int n = info[0].As<Napi::Number>().Int32Value();
  if (n < 1) throw Napi::RangeError::New(info.Env(), "setNumThreads: n must be >= 1");
  omp_set_num_threads(n);
  return info.Env().Undefined();
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), omp_get_max_threads());
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  FaissIndex::Init(env, exports);
  exports.Set("setNumThreads", Napi::Function::New<SetNumThreads>(env, "setNumThreads"));
  exports.Set("getNumThreads", Napi::Function::New<GetNumThreads>(env, "getNumThreads"));
  exports.Set("faissVersion", Napi::String::New(env, std::to_string(FAISS_VERSION_MAJOR) + "." +
                                                         std::to_string(FAISS_VERSION_MINOR) + "." +
                                                         std::to_string(FAISS_VERSION_PATCH)));
  return exports;
}

}  // namespace

NODE_API_MODULE(embedflow_faiss, Init)
