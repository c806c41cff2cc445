// Shared by the diffusion fixture runners (schedulers, pipelines): reading a
// case's tensors from reference.safetensors (inline values, `same_as`) and
// comparing an output with its tolerance (|a - b| <= atol + rtol * |b|).
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "core/tensor.h"
#include "formats/safetensors.h"
#include "verify/case_runner.h"
#include "verify/verify.h"

namespace ia::diffusion_verify {

using json = nlohmann::json;

// The tensor an input/output spec names: a stored tensor, inline `values`, or `same_as`.
Tensor spec_tensor(const json& spec, const SafetensorsFile& st, const std::string& what);

// Compares `got` with the reference of `spec`; on a difference marks `r` failed
// (first failure wins) and returns false. Integer references compare exactly.
bool check_output(const std::string& name, const json& spec, const Tensor& got, const SafetensorsFile& st,
                  CaseResult& r);
// A scalar output given inline (e.g. init_noise_sigma), relative tolerance 1e-4.
bool check_scalar(const std::string& name, double want, double got, CaseResult& r);

// Slice i of the leading dimension (a copy).
Tensor slice0(const Tensor& t, int64_t i);
// Stacks equally-shaped tensors along a new leading dimension.
Tensor stack0(const std::vector<Tensor>& parts);

}  // namespace ia::diffusion_verify
