// The CLI writes PNGs with the app's encoder, so its pictures are the bytes the app exports.
export { encodePng } from '../../src/export/png';
