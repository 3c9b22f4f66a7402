/** @module image-type — what an image's bytes say it is (a service may answer JPEG where PNG was named). */

/** An image's media type and the file extension that goes with it. */
export interface ImageType {
  mediaType: "image/png" | "image/jpeg" | "image/gif" | "image/webp";
  extension: "png" | "jpg" | "gif" | "webp";
}

const startsWith = (bytes: Uint8Array, signature: readonly number[], at = 0): boolean =>
  signature.every((value, index) => bytes[at + index] === value);

/**
 * The type of a PNG, JPEG, GIF or WebP image, read from its first bytes (its signature), or null for
 * anything else: trust the bytes, not the name or the header a service gave them.
 *
 * @example
 * const { bytes } = await ctx.images.generate(prompt);
 * const type = imageType(bytes); // { mediaType: "image/jpeg", extension: "jpg" }
 * if (type) files.push({ path: `${slug}.${type.extension}`, content: bytes });
 */
export function imageType(bytes: Uint8Array): ImageType | null {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
    return { mediaType: "image/png", extension: "png" };
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return { mediaType: "image/jpeg", extension: "jpg" };
  if (startsWith(bytes, [0x47, 0x49, 0x46, 0x38])) return { mediaType: "image/gif", extension: "gif" };
  if (startsWith(bytes, [0x52, 0x49, 0x46, 0x46]) && startsWith(bytes, [0x57, 0x45, 0x42, 0x50], 8))
    return { mediaType: "image/webp", extension: "webp" };
  return null;
}
