// Users named by ranges (actors/ua/user_range.hpp): what --users, --callees and the API's
// "users" fields expand to, and what they refuse.
#include <doctest/doctest.h>

#include "actors/ua/user_range.hpp"

using sipfleet::ua::expand_user_ranges;
using sipfleet::ua::repeated_user;
using users = std::vector<std::string>;

TEST_CASE("user ranges: numbers and ranges in the order given, spaces allowed, zero padding kept") {
  const auto u = expand_user_ranges(" 2000 , 1000-1002,0098-0100", 100);
  REQUIRE_MESSAGE(u.ok(), (u.ok() ? "" : u.err().reason));
  CHECK(*u == users{"2000", "1000", "1001", "1002", "0098", "0099", "0100"});
  const auto one = expand_user_ranges("7", 1);
  REQUIRE(one.ok());
  CHECK(*one == users{"7"});
}

TEST_CASE("user ranges: what is refused, with the part named") {
  const auto why = [](std::string_view text, std::size_t max = 100) {
    const auto u = expand_user_ranges(text, max);
    return u.ok() ? std::string("accepted") : u.err().reason;
  };
  CHECK(why("abc").find("not 'abc'") != std::string::npos);
  CHECK(why("1-").find("not '1-'") != std::string::npos);
  CHECK(why("").find("not ''") != std::string::npos);
  CHECK(why("1000,,1001").find("not ''") != std::string::npos);
  CHECK(why("1-2-3").find("not '1-2-3'") != std::string::npos);
  CHECK(why("1234567890123456789").find("not '1234567890123456789'") != std::string::npos);  // 19 digits
  CHECK(why("1999-1000") == "the range '1999-1000' ends before it starts");
  CHECK(why("098-1000") == "a zero-padded range needs both ends the same width, not '098-1000'");
  CHECK(why("1000-1100") == "more than 100 users");
  CHECK(why("1000-1049,2000-2050") == "more than 100 users");
  CHECK(why("1000-1099") == "accepted");  // exactly 100
  CHECK(why("1000-1049,1020-1029") == "user 1020 is given twice");  // overlapping ranges
  CHECK(why("5,5") == "user 5 is given twice");
}

TEST_CASE("repeated user: the first name given twice in sorted order, none when all differ") {
  CHECK_FALSE(repeated_user({}).has_value());
  CHECK_FALSE(repeated_user({"b", "a", "c"}).has_value());
  CHECK(repeated_user({"c", "b", "a", "c", "b"}) == std::optional<std::string>("b"));
}
