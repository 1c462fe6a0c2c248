;; Shaped like a Go 1.26 wasip1 plugin that links crypto/rand: 550 pages (34.4 MiB) of declared initial memory.
;; It adds "x-sdk-shape: go126" to the request headers.
(module
  (import "env" "proxy_add_header_map_value" (func $add (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 550)
  (data (i32.const 64) "x-sdk-shape")
  (data (i32.const 80) "go126")
  (global $heap (mut i32) (i32.const 65536))
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_memory_allocate") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p) (i32.and (i32.add (local.get $size) (i32.const 7)) (i32.const -8))))
    (local.get $p))
  (func (export "_initialize"))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_request_headers") (param $ctx i32) (param $n i32) (param $eos i32) (result i32)
    (drop (call $add (i32.const 0) (i32.const 64) (i32.const 11) (i32.const 80) (i32.const 5)))
    (i32.const 0)))
