// faiss-node 0.5.1 targets faiss 1.7.4, which declares faiss::idx_t in MetricType.h;
// Debian's faiss 1.7.3 only has faiss::Index::idx_t. Same type (int64_t), same ABI.
#pragma once
#include <cstdint>
namespace faiss {
using idx_t = int64_t;
}
