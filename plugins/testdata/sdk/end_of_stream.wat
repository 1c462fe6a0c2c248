;; An SDK example-style plugin that buffers each body until end_of_stream (StopIterationAndBuffer, 1, before it;
;; Continue, 0, at it), recording every callback in a journal per direction: "b0" or "b1" for a body callback with
;; its end_of_stream flag, then "t:" and the whole buffered body read with proxy_get_buffer_bytes for a trailer
;; callback. The request journal goes back as the response header "x-request-calls"; the response journal is added
;; to the response trailers as "x-response-calls". On a chunked message with trailers Envoy ends the stream with the
;; trailer callback, so the journal reads "b0...b0t:<whole body>"; without trailers it ends with "b1".
;; One stream at a time: the journals are module globals.
(module
  (import "env" "proxy_get_buffer_bytes" (func $get_bytes (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_add_header_map_value" (func $add (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 64) "x-request-calls")
  (data (i32.const 96) "x-response-calls")
  ;; Journals: request at 1024, response at 4096, each at most 2048 bytes.
  (global $request_len (mut i32) (i32.const 0))
  (global $response_len (mut i32) (i32.const 0))
  (global $heap (mut i32) (i32.const 65536))
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_memory_allocate") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p) (i32.and (i32.add (local.get $size) (i32.const 7)) (i32.const -8))))
    (if (i32.gt_u (global.get $heap) (i32.mul (memory.size) (i32.const 65536)))
      (then (drop (memory.grow (i32.add (i32.const 1)
        (i32.div_u (i32.sub (global.get $heap) (i32.mul (memory.size) (i32.const 65536))) (i32.const 65536)))))))
    (local.get $p))
  (func (export "_initialize"))
  (func (export "proxy_on_context_create") (param i32 i32))

  ;; Appends len bytes from src to the journal at base whose length is len_now; returns the new length (capped).
  (func $append (param $base i32) (param $len_now i32) (param $src i32) (param $len i32) (result i32)
    (local $i i32)
    (if (i32.gt_u (i32.add (local.get $len_now) (local.get $len)) (i32.const 2048))
      (then (return (local.get $len_now))))
    (block $done
      (loop $copy
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (i32.store8 (i32.add (local.get $base) (i32.add (local.get $len_now) (local.get $i)))
          (i32.load8_u (i32.add (local.get $src) (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $copy)))
    (i32.add (local.get $len_now) (local.get $len)))

  ;; "b0" or "b1" into scratch at 512, appended to a journal.
  (func $body_entry (param $base i32) (param $len_now i32) (param $eos i32) (result i32)
    (i32.store8 (i32.const 512) (i32.const 98))
    (i32.store8 (i32.const 513) (i32.add (i32.const 48) (i32.ne (local.get $eos) (i32.const 0))))
    (call $append (local.get $base) (local.get $len_now) (i32.const 512) (i32.const 2)))

  ;; "t:" and the body buffer of the given type, as the trailer callback can read it.
  (func $trailer_entry (param $base i32) (param $len_now i32) (param $type i32) (result i32)
    (local $len i32)
    (global.set $heap (i32.const 65536))
    (i32.store8 (i32.const 512) (i32.const 116))
    (i32.store8 (i32.const 513) (i32.const 58))
    (local.set $len (call $append (local.get $base) (local.get $len_now) (i32.const 512) (i32.const 2)))
    (i32.store (i32.const 520) (i32.const 0))
    (i32.store (i32.const 524) (i32.const 0))
    (if (i32.eqz (call $get_bytes (local.get $type) (i32.const 0) (i32.const 0x7fffffff) (i32.const 520) (i32.const 524)))
      (then (local.set $len (call $append (local.get $base) (local.get $len) (i32.load (i32.const 520)) (i32.load (i32.const 524))))))
    (local.get $len))

  (func (export "proxy_on_request_headers") (param $ctx i32) (param $n i32) (param $eos i32) (result i32)
    (global.set $request_len (i32.const 0))
    (global.set $response_len (i32.const 0))
    (i32.const 0))
  (func (export "proxy_on_request_body") (param $ctx i32) (param $size i32) (param $eos i32) (result i32)
    (global.set $request_len (call $body_entry (i32.const 1024) (global.get $request_len) (local.get $eos)))
    (i32.eqz (local.get $eos)))
  (func (export "proxy_on_request_trailers") (param $ctx i32) (param $n i32) (result i32)
    (global.set $request_len (call $trailer_entry (i32.const 1024) (global.get $request_len) (i32.const 0)))
    (i32.const 0))
  (func (export "proxy_on_response_headers") (param $ctx i32) (param $n i32) (param $eos i32) (result i32)
    (drop (call $add (i32.const 2) (i32.const 64) (i32.const 15) (i32.const 1024) (global.get $request_len)))
    (i32.const 0))
  (func (export "proxy_on_response_body") (param $ctx i32) (param $size i32) (param $eos i32) (result i32)
    (global.set $response_len (call $body_entry (i32.const 4096) (global.get $response_len) (local.get $eos)))
    (i32.eqz (local.get $eos)))
  (func (export "proxy_on_response_trailers") (param $ctx i32) (param $n i32) (result i32)
    (global.set $response_len (call $trailer_entry (i32.const 4096) (global.get $response_len) (i32.const 1)))
    (drop (call $add (i32.const 3) (i32.const 96) (i32.const 16) (i32.const 4096) (global.get $response_len)))
    (i32.const 0)))
