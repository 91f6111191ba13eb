// Loaded into s3rver before its own code (node --require, see emulators.go): the one part of
// S3's browser upload (POST Object) that s3rver 3.7.1 leaves out. S3 puts the uploaded file's
// own name in place of ${filename} in the form's key
// (https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html); s3rver stores the
// key as it was posted. The desk's upload form keys each file by its name that way, so
// without this every local upload would be called "${filename}".
//
// Two small hooks, no copy of s3rver's code: busboy's file event hands the part's file name
// to its stream, and the object s3rver makes from that stream takes the name into its key.
'use strict';

const Busboy = require('busboy');

const emit = Busboy.prototype.emit;
Busboy.prototype.emit = function (event, ...args) {
  if (event === 'file' && args[1] && typeof args[2] === 'string') {
    args[1].s3Filename = args[2];
  }
  return emit.call(this, event, ...args);
};

const objectPath = require.resolve('s3rver/lib/models/object');
const S3Object = require(objectPath);

class PostedObject extends S3Object {
  constructor(bucket, key, content, metadata) {
    const name = content && content.s3Filename;
    if (typeof key === 'string' && typeof name === 'string' && name !== '') {
      key = key.split('${filename}').join(name);
    }
    super(bucket, key, content, metadata);
  }
}

// Every module that requires the model from now on (s3rver's controllers, which load after
// this file) gets the class that knows the name.
require.cache[objectPath].exports = PostedObject;
