// kith_ort: a small Node binding of onnxruntime's C API with the project's own operator,
// kith.LoraAdd (lora_add.h), registered on every session it creates. onnxruntime-node cannot
// register custom operators from JavaScript, so the server's decoder runs through this binding when
// it is built (core/runtime/backend-native.ts) and through onnxruntime-node otherwise.
//
// It uses the libonnxruntime.so.1 that onnxruntime-node ships (the path comes from JavaScript), so
// the two share one onnxruntime. JavaScript API (all names checked there, not here):
//   init(libraryPath) → version string
//   createSession(modelBytes: Uint8Array, threads, [[configKey, value], ...]) → session handle
//   inputNames(session), outputNames(session) → string[]
//   run(session, names[], types[], dims[][], data[], outputNames[]) → Promise<[{type, dims, data}]>
//   release(session)
#include <dlfcn.h>
#include <node_api.h>

#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "lora_add.h"
#include "ort_abi.h"

namespace {

const void* const* g_api = nullptr;
ort::Env* g_env = nullptr;
ort::CustomOpDomain* g_domain = nullptr;
ort::MemoryInfo* g_cpu = nullptr;
std::string g_version;

template <typename F>
F fn(ort::Slot s) { return reinterpret_cast<F>(g_api[s]); }

// The message of a failed call (and the status released), or "" on success.
std::string check(ort::Status* st) {
  if (!st) return "";
  std::string msg = fn<const char* (*)(const ort::Status*)>(ort::kGetErrorMessage)(st);
  fn<void (*)(ort::Status*)>(ort::kReleaseStatus)(st);
  return msg.empty() ? "onnxruntime: unknown error" : msg;
}

struct TensorView {
  int type = 0;
  std::vector<int64_t> dims;
  void* data = nullptr;
};

std::string describe(ort::Value* v, TensorView* out) {
  ort::TensorInfo* info = nullptr;
  std::string err = check(fn<ort::Status* (*)(const ort::Value*, ort::TensorInfo**)>(ort::kGetTensorTypeAndShape)(v, &info));
  if (!err.empty()) return err;
  size_t n = 0;
  err = check(fn<ort::Status* (*)(const ort::TensorInfo*, int*)>(ort::kGetTensorElementType)(info, &out->type));
  if (err.empty()) err = check(fn<ort::Status* (*)(const ort::TensorInfo*, size_t*)>(ort::kGetDimensionsCount)(info, &n));
  if (err.empty()) {
    out->dims.assign(n, 0);
    err = check(fn<ort::Status* (*)(const ort::TensorInfo*, int64_t*, size_t)>(ort::kGetDimensions)(info, out->dims.data(), n));
  }
  fn<void (*)(ort::TensorInfo*)>(ort::kReleaseTensorTypeAndShapeInfo)(info);
  if (err.empty()) err = check(fn<ort::Status* (*)(ort::Value*, void**)>(ort::kGetTensorMutableData)(v, &out->data));
  return err;
}

// ---------------------------------------------------------------- kith.LoraAdd

ort::Status* lora_error(const std::string& msg) {
  // CreateStatus (slot 0) with ORT_INVALID_ARGUMENT.
  return reinterpret_cast<ort::Status* (*)(int, const char*)>(g_api[0])(2, ("kith.LoraAdd: " + msg).c_str());
}

struct LoraJob {
  kith::LoraDims d;
  const float *y, *x, *A, *B;
  const int64_t* target;
  float* out;
  int64_t perTask;
};

void lora_task(void* p, size_t task) {
  auto* j = static_cast<LoraJob*>(p);
  const int64_t r0 = static_cast<int64_t>(task) * j->perTask;
  const int64_t r1 = r0 + j->perTask < j->d.rows ? r0 + j->perTask : j->d.rows;
  // Scratch for one token's x·A: on the stack for every rank the packs use (a decode step runs this
  // hundreds of times), on the heap beyond.
  float local[1024];
  std::vector<float> heap;
  float* xa = local;
  if (j->d.R > 1024) heap.resize(j->d.R), xa = heap.data();
  kith::lora_add_rows(j->d, j->y, j->x, j->A, j->B, j->target, j->out, r0, r1, xa);
}

// Multiply-adds below which one thread does the whole update (a few microseconds of work, about
// what handing rows to the intra-op pool costs); above it the rows are split across the pool.
constexpr int64_t kParallelWork = 1 << 16;

ort::Status* lora_compute(void*, ort::KernelContext* ctx) {
  using GetInput = ort::Status* (*)(const ort::KernelContext*, size_t, const ort::Value**);
  TensorView in[5];
  for (size_t i = 0; i < 5; i++) {
    const ort::Value* v = nullptr;
    std::string err = check(fn<GetInput>(ort::kKernelContext_GetInput)(ctx, i, &v));
    if (err.empty() && !v) err = "missing input " + std::to_string(i);
    if (err.empty()) err = describe(const_cast<ort::Value*>(v), &in[i]);
    if (!err.empty()) return lora_error(err);
  }
  const TensorView &y = in[0], &x = in[1], &A = in[2], &B = in[3], &T = in[4];
  if (y.dims.size() != 3 || x.dims.size() != 3 || A.dims.size() != 3 || T.dims.size() != 1 || (B.dims.size() != 3 && B.dims.size() != 4))
    return lora_error("expected y, x, A of rank 3, B of rank 3 or 4, target of rank 1");
  kith::LoraDims d{};
  d.rows = y.dims[0];
  d.T = y.dims[1];
  d.in = x.dims[2];
  d.R = A.dims[2];
  if (B.dims.size() == 3) {
    d.n = 1, d.r = B.dims[1], d.chunk = B.dims[2];
  } else {
    d.n = B.dims[1], d.r = B.dims[2], d.chunk = B.dims[3];
  }
  const int64_t width = y.dims[2];
  if (x.dims[0] != d.rows || x.dims[1] != d.T || A.dims[0] != d.rows || A.dims[1] != d.in || B.dims[0] != d.rows)
    return lora_error("batch, sequence or input sizes of y, x, A and B disagree");
  if (d.n * d.chunk != width || T.dims[0] != d.n) return lora_error("B's chunks do not cover y's width");
  const auto* target = static_cast<const int64_t*>(T.data);
  if (d.R > 0) {
    if (d.r <= 0 || d.R % d.r != 0) return lora_error("A's rank is not a whole number of B's ranks");
    for (int64_t c = 0; c < d.n; c++)
      if (target[c] < 0 || (target[c] + 1) * d.r > d.R) return lora_error("a chunk's target is outside A's rank columns");
  }

  using GetOutput = ort::Status* (*)(ort::KernelContext*, size_t, const int64_t*, size_t, ort::Value**);
  ort::Value* ov = nullptr;
  std::string err = check(fn<GetOutput>(ort::kKernelContext_GetOutput)(ctx, 0, y.dims.data(), 3, &ov));
  TensorView o;
  if (err.empty()) err = describe(ov, &o);
  if (!err.empty()) return lora_error(err);

  LoraJob job{d, static_cast<const float*>(y.data), static_cast<const float*>(x.data), static_cast<const float*>(A.data),
              static_cast<const float*>(B.data), target, static_cast<float*>(o.data), d.rows};
  const int64_t work = d.rows * d.T * (d.in * d.R + d.n * d.r * d.chunk);
  if (work < kParallelWork || d.rows < 2) {
    lora_task(&job, 0);
    return nullptr;
  }
  job.perTask = 1;
  using ParallelFor = ort::Status* (*)(const ort::KernelContext*, void (*)(void*, size_t), size_t, size_t, void*);
  err = check(fn<ParallelFor>(ort::kKernelContext_ParallelFor)(ctx, lora_task, static_cast<size_t>(d.rows), 0, &job));
  return err.empty() ? nullptr : lora_error(err);
}

int g_inplace_in[1] = {0}, g_inplace_out[1] = {0};

ort::CustomOp make_lora_op() {
  ort::CustomOp op;
  std::memset(&op, 0, sizeof op);
  op.version = 18;
  op.CreateKernelV2 = [](const ort::CustomOp*, const void*, const ort::KernelInfo*, void** k) -> ort::Status* {
    *k = reinterpret_cast<void*>(1);  // stateless
    return nullptr;
  };
  op.KernelComputeV2 = lora_compute;
  op.KernelDestroy = [](void*) {};
  op.GetName = [](const ort::CustomOp*) { return "LoraAdd"; };
  op.GetExecutionProviderType = [](const ort::CustomOp*) -> const char* { return nullptr; };
  op.GetInputTypeCount = [](const ort::CustomOp*) -> size_t { return 5; };
  op.GetInputType = [](const ort::CustomOp*, size_t i) -> int { return i == 4 ? ort::kInt64 : ort::kFloat; };
  op.GetOutputTypeCount = [](const ort::CustomOp*) -> size_t { return 1; };
  op.GetOutputType = [](const ort::CustomOp*, size_t) -> int { return ort::kFloat; };
  op.GetInputCharacteristic = [](const ort::CustomOp*, size_t) { return 0; };
  op.GetOutputCharacteristic = [](const ort::CustomOp*, size_t) { return 0; };
  op.GetInputMemoryType = [](const ort::CustomOp*, size_t) { return 0; };
  // The output may reuse y's buffer when nothing else reads y (the kernel then adds in place).
  op.GetMayInplace = [](int** in, int** out) -> size_t {
    *in = g_inplace_in;
    *out = g_inplace_out;
    return 1;
  };
  op.ReleaseMayInplace = [](int*, int*) {};
  return op;
}

ort::CustomOp g_lora_op = make_lora_op();

// ---------------------------------------------------------------- N-API helpers

#define NAPI(call)                                      \
  do {                                                  \
    if ((call) != napi_ok) return throw_last(env);      \
  } while (0)

napi_value throw_last(napi_env env) {
  const napi_extended_error_info* info = nullptr;
  napi_get_last_error_info(env, &info);
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_error(env, nullptr, info && info->error_message ? info->error_message : "kith_ort: N-API call failed");
  return nullptr;
}

napi_value throw_msg(napi_env env, const std::string& msg) {
  napi_throw_error(env, nullptr, msg.c_str());
  return nullptr;
}

bool get_string(napi_env env, napi_value v, std::string* out) {
  size_t n = 0;
  if (napi_get_value_string_utf8(env, v, nullptr, 0, &n) != napi_ok) return false;
  out->assign(n, '\0');
  return napi_get_value_string_utf8(env, v, out->data(), n + 1, &n) == napi_ok;
}

struct SessionBox {
  ort::Session* session = nullptr;
  std::vector<std::string> inputs, outputs;
  int running = 0;
  bool released = false;
};

void release_session(SessionBox* s) {
  if (s->session) fn<void (*)(ort::Session*)>(ort::kReleaseSession)(s->session);
  s->session = nullptr;
}

SessionBox* unbox(napi_env env, napi_value v) {
  void* p = nullptr;
  if (napi_get_value_external(env, v, &p) != napi_ok || !p) {
    napi_throw_type_error(env, nullptr, "kith_ort: expected a session handle");
    return nullptr;
  }
  auto* s = static_cast<SessionBox*>(p);
  if (s->released) {
    napi_throw_error(env, nullptr, "kith_ort: session was released");
    return nullptr;
  }
  return s;
}

// ---------------------------------------------------------------- init / sessions

napi_value Init(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  NAPI(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  std::string path;
  if (argc < 1 || !get_string(env, argv[0], &path)) return throw_msg(env, "kith_ort.init: expected the path of libonnxruntime");
  // Worker threads (the server's inference and vision workers) may each load the binding at once.
  static std::mutex once;
  std::lock_guard<std::mutex> lock(once);
  if (!g_api) {
    void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
    if (!lib) return throw_msg(env, std::string("kith_ort.init: cannot load ") + path + ": " + dlerror());
    auto getBase = reinterpret_cast<const ort::ApiBase* (*)()>(dlsym(lib, "OrtGetApiBase"));
    if (!getBase) return throw_msg(env, "kith_ort.init: " + path + " has no OrtGetApiBase");
    const void* const* api = getBase()->GetApi(ort::kApiVersion);
    if (!api) return throw_msg(env, std::string("kith_ort.init: onnxruntime ") + getBase()->GetVersionString() + " lacks API version 17");
    g_api = api;
    std::string err = check(fn<ort::Status* (*)(int, const char*, ort::Env**)>(ort::kCreateEnv)(ort::kLogWarning, "kith", &g_env));
    if (err.empty()) err = check(fn<ort::Status* (*)(const char*, ort::CustomOpDomain**)>(ort::kCreateCustomOpDomain)("kith", &g_domain));
    if (err.empty()) err = check(fn<ort::Status* (*)(ort::CustomOpDomain*, const ort::CustomOp*)>(ort::kCustomOpDomain_Add)(g_domain, &g_lora_op));
    if (err.empty()) err = check(fn<ort::Status* (*)(int, int, ort::MemoryInfo**)>(ort::kCreateCpuMemoryInfo)(ort::kArenaAllocator, ort::kMemDefault, &g_cpu));
    if (!err.empty()) {
      g_api = nullptr;
      return throw_msg(env, "kith_ort.init: " + err);
    }
    g_version = getBase()->GetVersionString();
  }
  napi_value out;
  NAPI(napi_create_string_utf8(env, g_version.c_str(), g_version.size(), &out));
  return out;
}

napi_value CreateSession(napi_env env, napi_callback_info info) {
  if (!g_api) return throw_msg(env, "kith_ort.createSession: call init first");
  size_t argc = 3;
  napi_value argv[3];
  NAPI(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc < 3) return throw_msg(env, "kith_ort.createSession: expected (modelBytes, threads, config)");
  napi_typedarray_type tt;
  size_t len = 0;
  void* bytes = nullptr;
  bool isTa = false;
  NAPI(napi_is_typedarray(env, argv[0], &isTa));
  if (!isTa) return throw_msg(env, "kith_ort.createSession: model bytes must be a Uint8Array");
  NAPI(napi_get_typedarray_info(env, argv[0], &tt, &len, &bytes, nullptr, nullptr));
  if (tt != napi_uint8_array) return throw_msg(env, "kith_ort.createSession: model bytes must be a Uint8Array");
  int32_t threads = 0;
  NAPI(napi_get_value_int32(env, argv[1], &threads));
  uint32_t nConfig = 0;
  NAPI(napi_get_array_length(env, argv[2], &nConfig));

  ort::SessionOptions* so = nullptr;
  std::string err = check(fn<ort::Status* (*)(ort::SessionOptions**)>(ort::kCreateSessionOptions)(&so));
  if (err.empty()) err = check(fn<ort::Status* (*)(ort::SessionOptions*, int)>(ort::kSetIntraOpNumThreads)(so, threads));
  if (err.empty()) err = check(fn<ort::Status* (*)(ort::SessionOptions*, int)>(ort::kSetInterOpNumThreads)(so, 1));
  if (err.empty()) err = check(fn<ort::Status* (*)(ort::SessionOptions*, int)>(ort::kSetSessionExecutionMode)(so, ort::kSequential));
  if (err.empty()) err = check(fn<ort::Status* (*)(ort::SessionOptions*, int)>(ort::kSetSessionGraphOptimizationLevel)(so, ort::kOptimizeAll));
  if (err.empty()) err = check(fn<ort::Status* (*)(ort::SessionOptions*, ort::CustomOpDomain*)>(ort::kAddCustomOpDomain)(so, g_domain));
  for (uint32_t i = 0; i < nConfig && err.empty(); i++) {
    napi_value pair, k, v;
    std::string key, value;
    if (napi_get_element(env, argv[2], i, &pair) != napi_ok || napi_get_element(env, pair, 0, &k) != napi_ok ||
        napi_get_element(env, pair, 1, &v) != napi_ok || !get_string(env, k, &key) || !get_string(env, v, &value)) {
      err = "config entries must be [key, value] string pairs";
      break;
    }
    err = check(fn<ort::Status* (*)(ort::SessionOptions*, const char*, const char*)>(ort::kAddSessionConfigEntry)(so, key.c_str(), value.c_str()));
  }
  auto* box = new SessionBox();
  if (err.empty())
    err = check(fn<ort::Status* (*)(const ort::Env*, const void*, size_t, const ort::SessionOptions*, ort::Session**)>(ort::kCreateSessionFromArray)(
        g_env, bytes, len, so, &box->session));
  if (so) fn<void (*)(ort::SessionOptions*)>(ort::kReleaseSessionOptions)(so);

  ort::Allocator* alloc = nullptr;
  if (err.empty()) err = check(fn<ort::Status* (*)(ort::Allocator**)>(ort::kGetAllocatorWithDefaultOptions)(&alloc));
  for (int which = 0; which < 2 && err.empty(); which++) {
    size_t count = 0;
    err = check(fn<ort::Status* (*)(const ort::Session*, size_t*)>(which ? ort::kSessionGetOutputCount : ort::kSessionGetInputCount)(box->session, &count));
    for (size_t i = 0; i < count && err.empty(); i++) {
      char* name = nullptr;
      err = check(fn<ort::Status* (*)(const ort::Session*, size_t, ort::Allocator*, char**)>(which ? ort::kSessionGetOutputName : ort::kSessionGetInputName)(
          box->session, i, alloc, &name));
      if (!err.empty()) break;
      (which ? box->outputs : box->inputs).emplace_back(name);
      check(fn<ort::Status* (*)(ort::Allocator*, void*)>(ort::kAllocatorFree)(alloc, name));
    }
  }
  if (!err.empty()) {
    release_session(box);
    delete box;
    return throw_msg(env, "kith_ort.createSession: " + err);
  }
  napi_value out;
  NAPI(napi_create_external(
      env, box,
      [](napi_env, void* p, void*) {
        auto* s = static_cast<SessionBox*>(p);
        if (s->running == 0) {
          release_session(s);
          delete s;
        }
      },
      nullptr, &out));
  return out;
}

napi_value Names(napi_env env, napi_callback_info info, bool outputs) {
  size_t argc = 1;
  napi_value argv[1];
  NAPI(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  SessionBox* s = argc ? unbox(env, argv[0]) : nullptr;
  if (!s) return argc ? nullptr : throw_msg(env, "kith_ort: expected a session handle");
  const auto& names = outputs ? s->outputs : s->inputs;
  napi_value arr;
  NAPI(napi_create_array_with_length(env, names.size(), &arr));
  for (size_t i = 0; i < names.size(); i++) {
    napi_value str;
    NAPI(napi_create_string_utf8(env, names[i].c_str(), names[i].size(), &str));
    NAPI(napi_set_element(env, arr, i, str));
  }
  return arr;
}
napi_value InputNames(napi_env env, napi_callback_info info) { return Names(env, info, false); }
napi_value OutputNames(napi_env env, napi_callback_info info) { return Names(env, info, true); }

napi_value Release(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  NAPI(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  SessionBox* s = argc ? unbox(env, argv[0]) : nullptr;
  if (!s) return argc ? nullptr : throw_msg(env, "kith_ort: expected a session handle");
  if (s->running) return throw_msg(env, "kith_ort.release: a run is still in flight");
  release_session(s);
  s->released = true;
  return nullptr;
}

// ---------------------------------------------------------------- run (on a libuv worker)

struct RunJob {
  SessionBox* box;
  std::vector<std::string> names, outNames;
  std::vector<ort::Value*> inputs, outputs;
  std::vector<napi_ref> keep;  // the input arrays, alive until the run ends
  std::string error;
  napi_deferred deferred;
  napi_async_work work;
};

void free_job(napi_env env, RunJob* job) {
  for (auto* v : job->inputs) fn<void (*)(ort::Value*)>(ort::kReleaseValue)(v);
  for (auto* v : job->outputs) if (v) fn<void (*)(ort::Value*)>(ort::kReleaseValue)(v);
  for (auto r : job->keep) napi_delete_reference(env, r);
  delete job;
}

size_t elem_size(int type) {
  switch (type) {
    case ort::kFloat: case ort::kInt32: return 4;
    case ort::kInt64: return 8;
    case ort::kUint8: case ort::kInt8: case ort::kBool: return 1;
    default: return 0;
  }
}

napi_value output_value(napi_env env, ort::Value* v, std::string* err) {
  TensorView t;
  *err = describe(v, &t);
  if (!err->empty()) return nullptr;
  napi_typedarray_type kind;
  switch (t.type) {
    case ort::kFloat: kind = napi_float32_array; break;
    case ort::kInt64: kind = napi_bigint64_array; break;
    case ort::kInt32: kind = napi_int32_array; break;
    case ort::kInt8: kind = napi_int8_array; break;
    case ort::kUint8: case ort::kBool: kind = napi_uint8_array; break;
    default: *err = "output of element type " + std::to_string(t.type) + " is not supported"; return nullptr;
  }
  size_t count = 1;
  for (int64_t d : t.dims) count *= static_cast<size_t>(d);
  const size_t bytes = count * elem_size(t.type);
  void* dst = nullptr;
  napi_value ab, ta, dims, obj, typeNum;
  if (napi_create_arraybuffer(env, bytes, &dst, &ab) != napi_ok || napi_create_typedarray(env, kind, count, ab, 0, &ta) != napi_ok ||
      napi_create_array_with_length(env, t.dims.size(), &dims) != napi_ok || napi_create_object(env, &obj) != napi_ok ||
      napi_create_int32(env, t.type, &typeNum) != napi_ok) {
    *err = "could not allocate an output array";
    return nullptr;
  }
  if (bytes) std::memcpy(dst, t.data, bytes);
  for (size_t i = 0; i < t.dims.size(); i++) {
    napi_value d;
    napi_create_double(env, static_cast<double>(t.dims[i]), &d);
    napi_set_element(env, dims, i, d);
  }
  napi_set_named_property(env, obj, "type", typeNum);
  napi_set_named_property(env, obj, "dims", dims);
  napi_set_named_property(env, obj, "data", ta);
  return obj;
}

void run_execute(napi_env, void* p) {
  auto* job = static_cast<RunJob*>(p);
  std::vector<const char*> in, out;
  for (auto& n : job->names) in.push_back(n.c_str());
  for (auto& n : job->outNames) out.push_back(n.c_str());
  job->outputs.assign(out.size(), nullptr);
  using Run = ort::Status* (*)(ort::Session*, const void*, const char* const*, const ort::Value* const*, size_t, const char* const*, size_t, ort::Value**);
  job->error = check(fn<Run>(ort::kRun)(job->box->session, nullptr, in.data(), job->inputs.data(), in.size(), out.data(), out.size(),
                                       job->outputs.data()));
}

void run_complete(napi_env env, napi_status status, void* p) {
  auto* job = static_cast<RunJob*>(p);
  job->box->running--;
  napi_value result = nullptr;
  std::string err = status == napi_ok ? job->error : "the run was cancelled";
  if (err.empty() && napi_create_array_with_length(env, job->outputs.size(), &result) == napi_ok) {
    for (size_t i = 0; i < job->outputs.size() && err.empty(); i++) {
      napi_value v = output_value(env, job->outputs[i], &err);
      if (err.empty()) napi_set_element(env, result, i, v);
    }
  }
  if (err.empty()) {
    napi_resolve_deferred(env, job->deferred, result);
  } else {
    napi_value msg, error;
    err = "kith_ort.run: " + err;
    napi_create_string_utf8(env, err.c_str(), err.size(), &msg);
    napi_create_error(env, nullptr, msg, &error);
    napi_reject_deferred(env, job->deferred, error);
  }
  napi_delete_async_work(env, job->work);
  free_job(env, job);
}

napi_value Run(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  NAPI(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc < 6) return throw_msg(env, "kith_ort.run: expected (session, names, types, dims, data, outputNames)");
  SessionBox* box = unbox(env, argv[0]);
  if (!box) return nullptr;
  uint32_t n = 0, nOut = 0;
  NAPI(napi_get_array_length(env, argv[1], &n));
  NAPI(napi_get_array_length(env, argv[5], &nOut));
  auto* job = new RunJob();
  job->box = box;
  std::string err;
  static float empty[1];
  for (uint32_t i = 0; i < n && err.empty(); i++) {
    napi_value name, typeV, dimsV, dataV;
    std::string nm;
    int32_t type = 0;
    uint32_t rank = 0;
    if (napi_get_element(env, argv[1], i, &name) != napi_ok || !get_string(env, name, &nm) || napi_get_element(env, argv[2], i, &typeV) != napi_ok ||
        napi_get_value_int32(env, typeV, &type) != napi_ok || napi_get_element(env, argv[3], i, &dimsV) != napi_ok ||
        napi_get_array_length(env, dimsV, &rank) != napi_ok || napi_get_element(env, argv[4], i, &dataV) != napi_ok) {
      err = "malformed input " + std::to_string(i);
      break;
    }
    std::vector<int64_t> dims(rank);
    size_t count = 1;
    for (uint32_t k = 0; k < rank; k++) {
      napi_value d;
      int64_t x = -1;
      if (napi_get_element(env, dimsV, k, &d) != napi_ok || napi_get_value_int64(env, d, &x) != napi_ok || x < 0) {
        err = "input " + nm + ": dimensions must be non-negative integers";
        break;
      }
      dims[k] = x;
      count *= static_cast<size_t>(x);
    }
    if (!err.empty()) break;
    napi_typedarray_type tt;
    size_t len = 0;
    void* data = nullptr;
    napi_value ab;
    size_t offset = 0;
    bool isTa = false;
    if (napi_is_typedarray(env, dataV, &isTa) != napi_ok || !isTa || napi_get_typedarray_info(env, dataV, &tt, &len, &data, &ab, &offset) != napi_ok) {
      err = "input " + nm + ": data must be a typed array";
      break;
    }
    const size_t es = elem_size(type);
    if (es == 0) {
      err = "input " + nm + ": element type " + std::to_string(type) + " is not supported";
      break;
    }
    if (len != count) {
      err = "input " + nm + ": " + std::to_string(len) + " elements for a shape of " + std::to_string(count);
      break;
    }
    napi_ref ref;
    if (napi_create_reference(env, dataV, 1, &ref) != napi_ok) {
      err = "could not keep input " + nm;
      break;
    }
    job->keep.push_back(ref);
    ort::Value* v = nullptr;
    using Create = ort::Status* (*)(const ort::MemoryInfo*, void*, size_t, const int64_t*, size_t, int, ort::Value**);
    err = check(fn<Create>(ort::kCreateTensorWithDataAsOrtValue)(g_cpu, count ? data : empty, count * es, dims.data(), rank, type, &v));
    if (!err.empty()) {
      err = "input " + nm + ": " + err;
      break;
    }
    job->inputs.push_back(v);
    job->names.push_back(nm);
  }
  for (uint32_t i = 0; i < nOut && err.empty(); i++) {
    napi_value name;
    std::string nm;
    if (napi_get_element(env, argv[5], i, &name) != napi_ok || !get_string(env, name, &nm)) err = "output names must be strings";
    job->outNames.push_back(nm);
  }
  if (!err.empty()) {
    free_job(env, job);
    return throw_msg(env, "kith_ort.run: " + err);
  }
  napi_value promise, resource;
  NAPI(napi_create_promise(env, &job->deferred, &promise));
  NAPI(napi_create_string_utf8(env, "kith_ort.run", NAPI_AUTO_LENGTH, &resource));
  NAPI(napi_create_async_work(env, nullptr, resource, run_execute, run_complete, job, &job->work));
  box->running++;
  NAPI(napi_queue_async_work(env, job->work));
  return promise;
}

napi_value Module(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"init", nullptr, Init, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"createSession", nullptr, CreateSession, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"inputNames", nullptr, InputNames, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"outputNames", nullptr, OutputNames, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"run", nullptr, Run, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"release", nullptr, Release, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return nullptr;
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Module)
