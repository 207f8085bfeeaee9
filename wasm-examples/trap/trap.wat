;; trap: a wasi:cli/run command that prints nothing and hits `unreachable`.
(module
  (func $run (export "wasi:cli/run@0.2.0#run") (result i32)
    unreachable)
)
