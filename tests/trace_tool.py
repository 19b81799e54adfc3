#!/usr/bin/env python3
"""trace_tool.py - a reader of heaplab's trace format written from
docs/trace-format.md alone (it shares no code with common/trace.c), so that
the tests check the C reader and writer against the document.

  trace_tool.py stats FILE
      validate FILE (magic, version, sizes, checksum, every event) and print
      one JSON object: version, threads, events, slots, bytes,
      bytes_per_event, live_peak_header, and live_peak_decoded: the peak of
      requested live bytes computed by decoding the events (one-thread
      traces: the stream order is the recorded order; null otherwise).
  trace_tool.py make-bad KIND IN OUT
      write a bad trace derived from IN: truncated (its last bytes cut),
      corrupted (one payload byte flipped), newer (format version 2, checksum
      recomputed so only the version is wrong), empty (zero events, a valid
      header and checksum).
Exit 1 with one line on stderr when FILE is not a valid trace.
"""
import json
import struct
import sys

HEADER = struct.Struct("<8sIIQQQQQQ")  # magic, version, threads, events, slots,
                                       # live_peak, max_size, payload, checksum
MALLOC, CALLOC, ALIGNED, REALLOC, FREE, USABLE = range(6)


def fnv1a(data, h=0xcbf29ce484222325):
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def checksum(blob):
    return fnv1a(blob[HEADER.size:], fnv1a(blob[:56]))


def varint(data, pos):
    v, shift = 0, 0
    while True:
        b = data[pos]
        pos += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return v, pos


def decode(stream, count, slots):
    """Yield (kind, slot, size) for `count` events of one thread's stream."""
    pos, prev = 0, 0
    for _ in range(count):
        tag = stream[pos]
        pos += 1
        kind, wait, delta = tag & 7, tag & 8, tag >> 4
        if kind > USABLE:
            raise ValueError("event kind %d does not exist" % kind)
        if delta == 15:
            delta, pos = varint(stream, pos)
        if wait:
            _, pos = varint(stream, pos)
        size = 0
        if kind not in (FREE, USABLE):
            size, pos = varint(stream, pos)
        if kind == ALIGNED:
            pos += 1
        slot = prev + ((delta >> 1) ^ -(delta & 1))
        if not 0 <= slot < slots:
            raise ValueError("slot %d out of range" % slot)
        prev = slot
        yield kind, slot, size
    if pos != len(stream):
        raise ValueError("bytes left after the last event")


def stats(path):
    blob = open(path, "rb").read()
    magic, version, threads, events, slots, peak, _, payload, csum = HEADER.unpack_from(blob)
    if magic != b"HLTRACE\0" or version != 1 or events == 0:
        raise ValueError("bad magic, version or event count")
    table = HEADER.size
    if len(blob) != table + 16 * threads + payload or checksum(blob) != csum:
        raise ValueError("bad size or checksum")
    streams, off = [], table + 16 * threads
    for t in range(threads):
        n, nbytes = struct.unpack_from("<QQ", blob, table + 16 * t)
        streams.append((blob[off:off + nbytes], n))
        off += nbytes
    decoded = None
    if threads == 1:
        live, decoded, sizes = 0, 0, {}
        for kind, slot, size in decode(streams[0][0], streams[0][1], slots):
            if kind in (MALLOC, CALLOC, ALIGNED):
                if slot in sizes:
                    raise ValueError("allocation into a live slot")
                sizes[slot] = size
                live += size
            elif kind == REALLOC:
                live += size - sizes[slot]
                sizes[slot] = size
            elif kind == FREE:
                live -= sizes.pop(slot)
            decoded = max(decoded, live)
    else:
        for stream, n in streams:
            for _ in decode(stream, n, slots):
                pass
    return {"version": version, "threads": threads, "events": events, "slots": slots,
            "bytes": len(blob), "bytes_per_event": len(blob) / events,
            "live_peak_header": peak, "live_peak_decoded": decoded}


def make_bad(kind, src, dst):
    blob = bytearray(open(src, "rb").read())
    if kind == "truncated":
        blob = blob[:len(blob) - max(1, (len(blob) - HEADER.size) // 2)]
    elif kind == "corrupted":
        blob[(HEADER.size + len(blob)) // 2] ^= 0x40
    elif kind == "newer":
        struct.pack_into("<I", blob, 8, 2)
        struct.pack_into("<Q", blob, 56, checksum(blob))
    elif kind == "empty":
        blob = bytearray(HEADER.pack(b"HLTRACE\0", 1, 0, 0, 0, 0, 0, 0, 0))
        struct.pack_into("<Q", blob, 56, checksum(blob))
    else:
        raise SystemExit("make-bad: unknown kind %s" % kind)
    open(dst, "wb").write(blob)


def main():
    if sys.argv[1] == "stats":
        try:
            print(json.dumps(stats(sys.argv[2])))
        except (ValueError, IndexError, KeyError, struct.error) as e:
            print("trace_tool: %s: %s" % (sys.argv[2], e), file=sys.stderr)
            sys.exit(1)
    else:
        make_bad(sys.argv[2], sys.argv[3], sys.argv[4])


if __name__ == "__main__":
    main()
