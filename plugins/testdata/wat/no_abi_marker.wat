;; A module that exports everything but the ABI marker: the host must reject it.
(module
  (memory (export "memory") 1)
  (func (export "proxy_abi_version_9_9_9"))
  (func (export "malloc") (param i32) (result i32) (i32.const 1024)))
