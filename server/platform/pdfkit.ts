/**
 * pdfkit, loaded on first use: statements and patronage notices are the only PDFs the service
 * writes, and the module (with fontkit and its font tables) adds about 17 MB to a process's
 * resident memory and 7 MB to its live heap, which every Mark-Compact then walks.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

type PdfKit = typeof import('pdfkit');

const require = createRequire(import.meta.url);

let loaded: Promise<PdfKit> | null = null;

/** The PDFDocument class (imported once per process). */
export function loadPdfKit(): Promise<PdfKit> {
  loaded ??= import('pdfkit').then((m) => (m as unknown as { default: PdfKit }).default);
  return loaded;
}

/** A regular and a bold font, as the bytes pdfkit's registerFont takes. */
export interface FontPair {
  regular: Buffer;
  bold: Buffer;
}

let unicodeSans: Promise<FontPair> | null = null;

/**
 * DejaVu Sans and DejaVu Sans Bold (the dejavu-fonts-ttf package), for PDFs whose text the
 * built-in Helvetica cannot write: Helvetica is encoded in WinAnsi, so a letter outside it (Ł, ễ,
 * Ψ, Cyrillic) comes out as other glyphs and throws off the rest of its line. DejaVu covers Latin,
 * Greek, Cyrillic, Hebrew and Arabic; pdfkit embeds only the glyphs used. Read once per process.
 */
export function unicodeSansFonts(): Promise<FontPair> {
  unicodeSans ??= Promise.all([
    readFile(require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf')),
    readFile(require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf')),
  ]).then(
    ([regular, bold]) => ({ regular, bold }),
    (error: unknown) => {
      unicodeSans = null;
      throw error;
    },
  );
  return unicodeSans;
}
