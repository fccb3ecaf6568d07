/**
 * pdfkit, loaded on first use: statements and patronage notices are the only PDFs the service
 * writes, and the module (with fontkit and its font tables) adds about 17 MB to a process's
 * resident memory and 7 MB to its live heap, which every Mark-Compact then walks.
 */
type PdfKit = typeof import('pdfkit');

let loaded: Promise<PdfKit> | null = null;

/** The PDFDocument class (imported once per process). */
export function loadPdfKit(): Promise<PdfKit> {
  loaded ??= import('pdfkit').then((m) => (m as unknown as { default: PdfKit }).default);
  return loaded;
}
