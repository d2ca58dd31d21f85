// CHECK_OK and REQUIRE_OK: doctest checks that a shmkv::Status is ok, and
// print its message when it is not (a bare CHECK(s.is_ok()) says only "false").
#pragma once

#include <doctest/doctest.h>

#include "shmkv/status.hpp"

#define SHMKV_STATUS_OK(ASSERT, expr)                                                      \
  do {                                                                                     \
    const ::shmkv::Status shmkv_checked_status = (expr);                                   \
    ASSERT(shmkv_checked_status.is_ok(), "status: " << shmkv_checked_status.message());    \
  } while (false)

#define CHECK_OK(expr) SHMKV_STATUS_OK(CHECK_MESSAGE, expr)
#define REQUIRE_OK(expr) SHMKV_STATUS_OK(REQUIRE_MESSAGE, expr)
