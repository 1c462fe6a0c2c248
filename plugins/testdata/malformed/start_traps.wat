;; The start section (run during instantiation, as AssemblyScript's) reads far out of bounds.
(module
  (memory (export "memory") 1)
  (func $start (drop (i32.load (i32.const -4))))
  (start $start)
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "malloc") (param i32) (result i32) (i32.const 1024)))
