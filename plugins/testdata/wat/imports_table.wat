;; Imports a table, which the host never provides: rejected naming the import.
(module
  (import "env" "table" (table 1 funcref))
  (memory (export "memory") 1)
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "malloc") (param i32) (result i32) (i32.const 1024)))
