fn main() {
    println!("frontdesk: being written");
}
