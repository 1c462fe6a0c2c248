;; Logs in a loop: each request-headers call logs one 40 000-byte message and then 3000 short ones at info.
(module
  (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 64) "flood")
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "malloc") (param i32) (result i32) (i32.const 65536))
  (func (export "proxy_on_request_headers") (param $ctx i32) (param $n i32) (param $eos i32) (result i32)
    (local $i i32)
    (drop (call $log (i32.const 2) (i32.const 1024) (i32.const 40000)))
    (loop $again
      (drop (call $log (i32.const 2) (i32.const 64) (i32.const 5)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const 3000))))
    (i32.const 0)))
