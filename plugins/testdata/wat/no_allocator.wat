;; ABI 0.2.1 but neither proxy_on_memory_allocate nor malloc: rejected ("missing malloc").
(module
  (memory (export "memory") 1)
  (func (export "proxy_abi_version_0_2_1")))
