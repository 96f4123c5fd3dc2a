// result<T>: a value or an error with a reason. Errors from the network are values, never
// exceptions (g++ 12 has no std::expected). The reason of a parse error is short, printable
// ASCII and fit for a 400 reason phrase.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace sipfleet::sip {

struct error {
  std::string reason;
};

template <class T>
class [[nodiscard]] result {
 public:
  result(T value) : v_(std::move(value)) {}
  result(error e) : v_(std::move(e)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const error& err() const { return std::get<1>(v_); }

 private:
  std::variant<T, error> v_;
};

}  // namespace sipfleet::sip
