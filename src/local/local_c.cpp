// The local readers' C ABI (include/shmkv/local.h) over Segment: no C++
// exception crosses it (allocation failures become -ENOMEM).
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>

#include "local/segment.hpp"
#include "shmkv/local.h"

struct shmkv_local {
  std::unique_ptr<shmkv::local::Segment> segment;
  std::string value;  // reused between gets: its capacity stays
};

extern "C" {

int shmkv_local_open(const char* name, shmkv_local** out) {
  if (!name || !out) return EINVAL;
  try {
    auto reader = std::make_unique<shmkv_local>();
    if (const int err = shmkv::local::Segment::open(name, &reader->segment); err != 0) return err;
    *out = reader.release();
    return 0;
  } catch (const std::bad_alloc&) {
    return ENOMEM;
  }
}

int shmkv_local_get(shmkv_local* r, const char* key, size_t key_len, char** value, size_t* value_len, int* kind) {
  if (!r || (!key && key_len) || !value || !value_len) return -EINVAL;
  try {
    int k = 0;
    const int found = r->segment->get(std::string_view(key ? key : "", key_len), shmkv::local::kWallClock,
                                      &r->value, &k);
    if (found != shmkv::local::kFound) return found;
    char* copy = static_cast<char*>(std::malloc(r->value.size() + 1));
    if (!copy) return -ENOMEM;
    std::memcpy(copy, r->value.data(), r->value.size());
    copy[r->value.size()] = '\0';
    *value = copy;
    *value_len = r->value.size();
    if (kind) *kind = k;
    return 0;
  } catch (const std::bad_alloc&) {
    return -ENOMEM;
  }
}

void shmkv_free(void* p) { std::free(p); }

void shmkv_local_close(shmkv_local* r) { delete r; }

}  // extern "C"
