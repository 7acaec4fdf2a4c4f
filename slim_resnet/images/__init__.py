"""A folder of images, for the feature-extraction command and the benchmark's real data alike.

- `listing`: the images of a folder, flat or one sub-folder per class, and their classes (no
  TensorFlow, so the benchmark checks a path before it imports TensorFlow);
- `decoding`: image sizes from the files' headers, and decoding under a pixel limit;
- `folder`: the listing as a tf.data pipeline of decoded, preprocessed images.
"""
