# Shared by every addon built by tools/faiss-build/build.sh: links Debian's static libfaiss.a
# (so the .node carries faiss itself) plus OpenBLAS (BLAS + LAPACK in one .so) and OpenMP.
find_package(OpenMP REQUIRED)
find_library(FAISS_STATIC NAMES libfaiss.a REQUIRED)
find_library(OPENBLAS NAMES openblas REQUIRED)
if(NOT DEFINED NODE_ADDON_API_DIR)
  message(FATAL_ERROR "pass -DNODE_ADDON_API_DIR=<node_modules/node-addon-api>")
endif()
add_library(embedflow_faiss_static INTERFACE)
target_link_libraries(embedflow_faiss_static INTERFACE ${FAISS_STATIC} ${OPENBLAS} OpenMP::OpenMP_CXX)
# $ORIGIN: the BLAS/OpenMP runtime libs are bundled beside the .node, so a cache restore needs no apt.
set(CMAKE_BUILD_WITH_INSTALL_RPATH ON)
set(CMAKE_INSTALL_RPATH "$ORIGIN")
