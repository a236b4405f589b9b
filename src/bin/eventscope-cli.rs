//! The native command line (to be filled in with run / explore / scenarios).
fn main() {
    for s in eventscope::sim::scenario::catalog() {
        println!("{:<22} {}", s.name, s.title);
    }
}
