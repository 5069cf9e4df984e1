-- A signature's normalised text, once per signature.
INSERT OR IGNORE INTO signatures (signature, signature_text) VALUES (:signature, :signature_text);
