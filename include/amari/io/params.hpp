#pragma once
// A command's parameters as attributes of its product's group, written and read back through the
// command's param_table (core/params.hpp): one attribute per parameter of role `model`, named as
// the vocabulary names it. Kinds map to attribute types as
//
//   real -> float64,  integer -> int64,  flag -> int64 (0 or 1),  text, axis -> string,
//   reals -> float64 array
//
// Runtime settings (threads, flush interval) and front-end options are not recorded here (the
// root attribute `config` holds everything a run was given). A parameter missing from an older
// file keeps the default that `into` holds.
#include <algorithm>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "amari/core/params.hpp"
#include "amari/io/store.hpp"

namespace amari::io {

// One parameter's value as an attribute of g.
void write_param(store::group& g, const param_spec& spec, const param_value& v);
// The attribute of that parameter, or nothing when g does not have it.
std::optional<param_value> read_param(const store::group& g, const param_spec& spec);

// `skip`: parameters a layout records otherwise (e.g. meanfield's `times`, which is its `t` scale).
template <class P>
void write_params(store::group& g, const param_table<P>& t, const P& p,
                  std::initializer_list<std::string_view> skip = {}) {
  for (const auto& e : t.entries()) {
    if (e.spec->role != param_role::model) continue;
    if (std::find(skip.begin(), skip.end(), e.spec->name) != skip.end()) continue;
    write_param(g, *e.spec, e.get(p));
  }
}

template <class P>
P read_params(const store::group& g, const param_table<P>& t, P into = P{}) {
  for (const auto& e : t.entries())
    if (e.spec->role == param_role::model)
      if (auto v = read_param(g, *e.spec)) e.set(into, *v);
  return into;
}

}  // namespace amari::io
