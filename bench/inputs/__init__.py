"""Real data for the benchmark: ImageNet-format TFRecord shards or a folder of class sub-folders of
images, read through tf.data. `example_format` says what one record holds (`example_fields` reads it
back without TensorFlow), `sources` finds and checks the data on disk before TensorFlow is imported
(format, files, number of images, classes), `pipeline` builds the tf.compat.v1 input
pipeline in the current graph (parallel reading, decoding that skips and counts bad JPEGs, TF-Slim's
training or evaluation preprocessing, fixed-shape batches copied ahead to the device),
`training_preprocessing` holds the training augmentations, `make_data` writes shards without
ImageNet (its command line is `bench.verbs.make_data_cli`), and `input_timing` times the pipeline
alone (the harness's `--mode input` goes through `bench.step` and `bench.measuring` instead).
Nothing here imports the rest of `bench`.
"""
