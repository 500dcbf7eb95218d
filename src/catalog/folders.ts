/** A folder path of the catalog: names joined by "/", none empty (no leading, trailing or double "/"). */
export const FOLDER_PATTERN = '^[^/]+(/[^/]+)*$';
export const FOLDER_PATH = new RegExp(FOLDER_PATTERN);
/** What a refusal says is accepted. */
export const FOLDER_ACCEPTED = 'expected names joined by "/" like "folder1/folder2", without a leading, trailing or double "/"';
