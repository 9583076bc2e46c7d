/** strerror-like text for a failed file operation, as corosync prints it ("No such file or directory"). */
const ERRNO_TEXT: Readonly<Record<string, string>> = {
  ENOENT: "No such file or directory",
  EACCES: "Permission denied",
  EPERM: "Operation not permitted",
  EEXIST: "File exists",
  EISDIR: "Is a directory",
  ENOTDIR: "Not a directory",
  ELOOP: "Too many levels of symbolic links",
  EROFS: "Read-only file system",
  ENOSPC: "No space left on device",
  EIO: "Input/output error",
};

/** The text for an fs error: strerror wording for common codes, else Node's message. */
export function errnoText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (typeof err?.code === "string" && ERRNO_TEXT[err.code] !== undefined) return ERRNO_TEXT[err.code]!;
  return err instanceof Error ? err.message : String(e);
}
