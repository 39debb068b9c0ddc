// The lazy restart's map of moved and unmapped memory (see lazy_pieces.h).
#include "lazy_pieces.h"

#include <vector>

namespace ckpt {

void LazyPieces::add(uint64_t start, uint64_t len) { pieces_.push_back({start, start, len}); }

uint64_t LazyPieces::orig_of(uint64_t now) const {
  for (const auto& p : pieces_)
    if (now >= p.now && now < p.now + p.len) return p.orig + (now - p.now);
  return 0;
}

uint64_t LazyPieces::now_of(uint64_t orig) const {
  for (const auto& p : pieces_)
    if (orig >= p.orig && orig < p.orig + p.len) return p.now + (orig - p.orig);
  return 0;
}

// Splits the piece holding `now` so that a piece starts there.
void LazyPieces::split_at(uint64_t now) {
  for (auto& p : pieces_) {
    if (now <= p.now || now >= p.now + p.len) continue;
    uint64_t head = now - p.now;
    Piece tail = {now, p.orig + head, p.len - head};
    p.len = head;
    pieces_.push_back(tail);
    return;
  }
}

// Drops the pieces inside [start, end), which must start at piece bounds.
void LazyPieces::erase(uint64_t start, uint64_t end) {
  std::erase_if(pieces_, [&](const Piece& p) { return p.now >= start && p.now < end; });
}

void LazyPieces::unmap(uint64_t start, uint64_t end) {
  split_at(start);
  split_at(end);
  erase(start, end);
}

void LazyPieces::remap(uint64_t from, uint64_t to, uint64_t len) {
  for (uint64_t at : {from, from + len, to, to + len}) split_at(at);
  std::vector<Piece> moving;
  for (const auto& p : pieces_)
    if (p.now >= from && p.now < from + len) moving.push_back({to + (p.now - from), p.orig, p.len});
  erase(from, from + len);
  erase(to, to + len);
  pieces_.insert(pieces_.end(), moving.begin(), moving.end());
}

}  // namespace ckpt
