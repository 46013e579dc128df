pub use netspec_compiler as _c;
