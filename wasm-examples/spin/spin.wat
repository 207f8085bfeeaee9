;; spin: a wasi:cli/run command that loops forever without calling the host.
(module
  (func $run (export "wasi:cli/run@0.2.0#run") (result i32)
    (loop $forever (br $forever))
    i32.const 0)
)
