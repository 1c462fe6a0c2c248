;; The allocator exists but with the wrong type: (i64) -> i64.
(module
  (memory (export "memory") 1)
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_memory_allocate") (param i64) (result i64) (i64.const 1024)))
