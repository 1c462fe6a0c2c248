;; _initialize recurses without end: a stack overflow, not a crash of the host.
(module
  (memory (export "memory") 1)
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "malloc") (param i32) (result i32) (i32.const 1024))
  (func $down (param i32) (call $down (i32.add (local.get 0) (i32.const 1))))
  (func (export "_initialize") (call $down (i32.const 0))))
