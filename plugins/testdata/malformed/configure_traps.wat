;; proxy_on_configure reads at 0xfffffffc: the reason names the trap, the address and the callback.
(module
  (memory (export "memory") 1)
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "malloc") (param i32) (result i32) (i32.const 1024))
  (func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.load (i32.const -4))))
