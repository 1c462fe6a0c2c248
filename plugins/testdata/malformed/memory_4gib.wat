;; Declares 65536 pages (4 GiB) of initial memory.
(module
  (memory (export "memory") 65536)
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "malloc") (param i32) (result i32) (i32.const 1024)))
