"""Statistical disclosure control (`disclosure`) and the privacy gate (`gate`), kept together."""
