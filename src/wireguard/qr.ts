/**
 * The client config as a QR code: for the terminal (UTF-8 half blocks) and as a PNG file.
 * qrcode is loaded when a code is drawn, not with the server: ~6 MB a running gateway never uses.
 */
const qrcode = () => import('qrcode').then((m) => m.default);

/** Error correction M, as the WireGuard apps' own exports use; fits a dual-stack config with PSK. */
const OPTIONS = { errorCorrectionLevel: 'M' as const, margin: 2 };

export function qrTerminal(text: string): Promise<string> {
  return qrcode().then((q) => q.toString(text, { ...OPTIONS, type: 'utf8' }));
}

export function qrPng(text: string, file: string): Promise<void> {
  return qrcode().then((q) => q.toFile(file, text, { ...OPTIONS, type: 'png', margin: 4, scale: 4 }));
}

/** For a web page: a PNG as a data: URL (the dashboard's CSP allows data: images only). */
export function qrDataUrl(text: string): Promise<string> {
  return qrcode().then((q) => q.toDataURL(text, { ...OPTIONS, type: 'image/png', margin: 4, scale: 6 }));
}
