/**
 * Global ids. Accounts and entries carry their book in the id (`Account:<book>:<account>`), so every
 * lookup reaches the row by its primary key, which starts with the book (the distribution key).
 */
import { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay';

export interface BookScopedId {
  bookId: string;
  id: string;
}

export function scopedId(bookId: string, id: string): string {
  return `${bookId}:${id}`;
}

export function parseScopedId(raw: string): BookScopedId | null {
  const parts = raw.split(':');
  if (parts.length !== 2 || !parts[0] || !parts[1]) return null;
  return { bookId: parts[0], id: parts[1] };
}

/** Decodes a global id of the given type; null when it is malformed or names another type. */
export function decodeId(globalId: string, typename: string): string | null {
  try {
    const decoded = decodeGlobalID(globalId);
    return decoded.typename === typename ? decoded.id : null;
  } catch {
    return null;
  }
}

/**
 * A co-op is its book (the same raw id), so its Coop id and its Book id name the same thing:
 * wherever a book is expected (`book(id:)`, `trialBalance(bookId:)`, `postJournalEntry(bookId:)`,
 * ...) a Coop id works too, and wherever a co-op is expected a Book id works (a book that is no
 * co-op then answers as an unknown co-op). Any other id decodes to '' (which no book has).
 */
function decodeBookOrCoop(globalId: string | number): string {
  const text = String(globalId);
  return decodeId(text, 'Book') ?? decodeId(text, 'Coop') ?? '';
}

/** A Book's raw id from its global id (or its co-op's); '' (which no book has) when it is neither. */
export function decodeBookId(globalId: string | number): string {
  return decodeBookOrCoop(globalId);
}

/** A Coop's raw id (its book's id) from its global id (or its Book id); '' when it is neither. */
export function decodeCoopId(globalId: string | number): string {
  return decodeBookOrCoop(globalId);
}

export function decodeScopedId(
  globalId: string,
  typename: 'Account' | 'JournalEntry' | 'MemberClass' | 'Party' | 'Membership',
): BookScopedId | null {
  const raw = decodeId(globalId, typename);
  return raw === null ? null : parseScopedId(raw);
}

export function coopGlobalId(bookId: string): string {
  return encodeGlobalID('Coop', bookId);
}

export function bookGlobalId(bookId: string): string {
  return encodeGlobalID('Book', bookId);
}

export function accountGlobalId(bookId: string, id: string): string {
  return encodeGlobalID('Account', scopedId(bookId, id));
}
