export type SignatureEncoding = "hex" | "base64"

const hexPattern = /^[0-9a-fA-F]+$/
// Standard alphabet with padding (RFC 4648 section 4), because `Buffer.from` alone
// would skip invalid characters and accept the URL-safe alphabet.
const base64Pattern = /^[A-Za-z0-9+/]+={0,2}$/

/**
 * Decodes a signature that claims to be a digest of `length` bytes. Returns
 * `undefined` for any other length or a character outside the encoding, so
 * the caller can count it as a mismatch without comparing.
 */
export const decodeSignature = (
  text: string,
  encoding: SignatureEncoding,
  length: number,
): Buffer | undefined => {
  if (encoding === "hex") {
    if (text.length !== length * 2 || !hexPattern.test(text)) return undefined
    return Buffer.from(text, "hex")
  }

  if (text.length !== Math.ceil(length / 3) * 4 || !base64Pattern.test(text)) return undefined
  const bytes = Buffer.from(text, "base64")
  return bytes.length === length ? bytes : undefined
}
