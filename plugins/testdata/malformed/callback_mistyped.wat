;; proxy_on_vm_start with the wrong type ((i64) -> i64): treated as absent with a warning, so the plugin loads;
;; proxy_on_configure returns false, so the plugin is refused.
(module
  (memory (export "memory") 1)
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "malloc") (param i32) (result i32) (i32.const 1024))
  (func (export "proxy_on_vm_start") (param i64) (result i64) (i64.const 1))
  (func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 0)))
