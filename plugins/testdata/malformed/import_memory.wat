;; Imports its memory instead of exporting it (Emscripten with -sIMPORTED_MEMORY): refused with the import's name.
(module
  (import "env" "memory" (memory 1))
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "malloc") (param i32) (result i32) (i32.const 1024)))
